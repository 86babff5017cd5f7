package localstack

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventBridge schedule expressions, evaluated in UTC as EventBridge does:
// rate(N minute[s]|hour[s]|day[s]) and cron(minutes hours day-of-month month
// day-of-week year) with , - * / ? L W # and month/day names.

type schedule interface {
	// next returns the first firing time strictly after t.
	next(t time.Time) time.Time
}

type rateSchedule time.Duration

func (r rateSchedule) next(t time.Time) time.Time { return t.Add(time.Duration(r)) }

func parseSchedule(expr string) (schedule, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		f := strings.Fields(expr[len("rate(") : len(expr)-1])
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: want rate(<value> <unit>)", expr)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: the value must be a positive whole number", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return nil, fmt.Errorf("%s: the unit must be minute(s), hour(s) or day(s)", expr)
		}
		return rateSchedule(time.Duration(n) * unit), nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr[len("cron(") : len(expr)-1])
	}
	return nil, fmt.Errorf("%q is neither rate(…) nor cron(…)", expr)
}

type cronSchedule struct {
	minute, hour, month, year map[int]bool // nil: any
	dom                       string       // kept as text: L and W depend on the month
	dow                       string
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (*cronSchedule, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields (minutes hours day-of-month month day-of-week year)", s)
	}
	c := &cronSchedule{dom: strings.ToUpper(f[2]), dow: strings.ToUpper(f[4])}
	var err error
	if c.minute, err = cronSet(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("cron(%s) minutes: %w", s, err)
	}
	if c.hour, err = cronSet(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("cron(%s) hours: %w", s, err)
	}
	if c.month, err = cronSet(strings.ToUpper(f[3]), 1, 12, monthNames); err != nil {
		return nil, fmt.Errorf("cron(%s) month: %w", s, err)
	}
	if c.year, err = cronSet(f[5], 1970, 2199, nil); err != nil {
		return nil, fmt.Errorf("cron(%s) year: %w", s, err)
	}
	// Validate the day fields on a sample month.
	probe := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := c.domMatch(probe); err != nil {
		return nil, fmt.Errorf("cron(%s) day-of-month: %w", s, err)
	}
	if _, err := c.dowMatch(probe); err != nil {
		return nil, fmt.Errorf("cron(%s) day-of-week: %w", s, err)
	}
	return c, nil
}

// cronSet expands a field of , - * / into the set of values (nil = all).
func cronSet(field string, lo, hi int, names map[string]int) (map[int]bool, error) {
	if field == "*" || field == "?" {
		return nil, nil
	}
	num := func(s string) (int, error) {
		if n, ok := names[s]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not in %d-%d", s, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		step := 1
		if i := strings.Index(part, "/"); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("bad step in %q", part)
			}
			step, part = n, part[:i]
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			ab := strings.SplitN(part, "-", 2)
			var err error
			if from, err = num(ab[0]); err != nil {
				return nil, err
			}
			if to, err = num(ab[1]); err != nil {
				return nil, err
			}
		default:
			n, err := num(part)
			if err != nil {
				return nil, err
			}
			from = n
			if step == 1 {
				to = n
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func (c *cronSchedule) domMatch(d time.Time) (bool, error) {
	f := c.dom
	if f == "*" || f == "?" {
		return true, nil
	}
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	switch {
	case f == "L":
		return d.Day() == last, nil
	case f == "LW":
		return d.Day() == nearestWeekday(d, last), nil
	case strings.HasSuffix(f, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(f, "W"))
		if err != nil || n < 1 || n > 31 {
			return false, fmt.Errorf("bad %q", f)
		}
		if n > last {
			n = last
		}
		return d.Day() == nearestWeekday(d, n), nil
	}
	set, err := cronSet(f, 1, 31, nil)
	return set[d.Day()], err
}

// nearestWeekday is the weekday closest to day n of d's month, within it.
func nearestWeekday(d time.Time, n int) int {
	t := time.Date(d.Year(), d.Month(), n, 0, 0, 0, 0, time.UTC)
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	switch t.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

func (c *cronSchedule) dowMatch(d time.Time) (bool, error) {
	f := c.dow
	if f == "*" || f == "?" {
		return true, nil
	}
	wd := int(d.Weekday()) + 1 // 1 = SUN
	day := func(s string) (int, error) {
		if n, ok := dayNames[s]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 7 {
			return 0, fmt.Errorf("%q is not a day of the week", s)
		}
		return n, nil
	}
	switch {
	case strings.Contains(f, "#"):
		ab := strings.SplitN(f, "#", 2)
		n, err := day(ab[0])
		k, err2 := strconv.Atoi(ab[1])
		if err != nil || err2 != nil || k < 1 || k > 5 {
			return false, fmt.Errorf("bad %q", f)
		}
		return wd == n && (d.Day()-1)/7+1 == k, nil
	case strings.HasSuffix(f, "L") && f != "L":
		n, err := day(strings.TrimSuffix(f, "L"))
		if err != nil {
			return false, err
		}
		last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return wd == n && d.Day()+7 > last, nil
	case f == "L":
		return wd == 7, nil
	}
	set, err := cronSet(f, 1, 7, dayNames)
	return set[wd], err
}

func (c *cronSchedule) next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		if c.year != nil && !c.year[t.Year()] {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.month != nil && !c.month[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		dm, _ := c.domMatch(t)
		wm, _ := c.dowMatch(t)
		if !dm || !wm {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.hour != nil && !c.hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if c.minute != nil && !c.minute[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{} // never (a year list in the past)
}
