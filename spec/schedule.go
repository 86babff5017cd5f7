package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	rateRE = regexp.MustCompile(`^rate\((\S+) (\S+)\)$`)
	cronRE = regexp.MustCompile(`^cron\((.*)\)$`)
)

// CheckScheduleExpression checks an EventBridge schedule expression:
// rate(<n> <unit>) or cron(<6 fields>), with EventBridge's rules.
func CheckScheduleExpression(expr string) error {
	if m := rateRE.FindStringSubmatch(expr); m != nil {
		return checkRate(m[1], m[2])
	}
	if strings.HasPrefix(expr, "rate(") {
		return fmt.Errorf("%q: a rate is rate(<number> <unit>), like rate(5 minutes)", expr)
	}
	if m := cronRE.FindStringSubmatch(expr); m != nil {
		return checkCron(m[1])
	}
	return fmt.Errorf("%q is neither rate(...) nor cron(...); write, for example, \"rate(5 minutes)\" or \"cron(0 2 * * ? *)\"", expr)
}

func checkRate(num, unit string) error {
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return fmt.Errorf("rate value %q must be a positive whole number", num)
	}
	singular := map[string]bool{"minute": true, "hour": true, "day": true}
	plural := map[string]bool{"minutes": true, "hours": true, "days": true}
	switch {
	case n == 1 && plural[unit]:
		return fmt.Errorf("rate(1 %s): use the singular unit for 1, rate(1 %s)", unit, strings.TrimSuffix(unit, "s"))
	case n > 1 && singular[unit]:
		return fmt.Errorf("rate(%d %s): use the plural unit for values above 1, rate(%d %ss)", n, unit, n, unit)
	case !singular[unit] && !plural[unit]:
		return fmt.Errorf("rate unit %q must be minute(s), hour(s) or day(s)", unit)
	}
	return nil
}

type cronField struct {
	name     string
	min, max int
	names    []string // JAN..DEC or SUN..SAT, index+min is the value
	extra    string   // special characters beyond , - * /
}

var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, extra: "?LW"},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, extra: "?L#"},
	{name: "year", min: 1970, max: 2199},
}

func checkCron(body string) error {
	fields := strings.Fields(body)
	if len(fields) != 6 {
		return fmt.Errorf("cron(%s) has %d fields; EventBridge cron has 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)", body, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("cron %s field %q: %v", cronFields[i].name, f, err)
		}
	}
	dom, dow := fields[2], fields[4]
	switch {
	case dom == "?" && dow == "?":
		return fmt.Errorf("cron(%s): only one of day-of-month and day-of-week may be ?", body)
	case dom != "?" && dow != "?":
		return fmt.Errorf("cron(%s): one of day-of-month and day-of-week must be ? (EventBridge cannot use both), like cron(0 2 * * ? *)", body)
	}
	return nil
}

func (f cronField) check(s string) error {
	if s == "?" {
		if !strings.Contains(f.extra, "?") {
			return fmt.Errorf("? is allowed only in day-of-month and day-of-week")
		}
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		if err := f.item(item); err != nil {
			return err
		}
	}
	return nil
}

func (f cronField) item(item string) error {
	if item == "" {
		return fmt.Errorf("empty list element")
	}
	switch {
	case f.name == "day-of-month" && (item == "L" || item == "LW"):
		return nil
	case f.name == "day-of-month" && strings.HasSuffix(item, "W"):
		_, err := f.value(strings.TrimSuffix(item, "W"))
		return err
	case f.name == "day-of-week" && item == "L":
		return nil
	case f.name == "day-of-week" && strings.HasSuffix(item, "L"):
		_, err := f.value(strings.TrimSuffix(item, "L"))
		return err
	case f.name == "day-of-week" && strings.Contains(item, "#"):
		day, nth, _ := strings.Cut(item, "#")
		if _, err := f.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("the week after # must be 1 to 5")
		}
		return nil
	}
	base, stepStr, hasStep := strings.Cut(item, "/")
	if hasStep {
		step, err := strconv.Atoi(stepStr)
		if err != nil || step < 1 || step > f.max {
			return fmt.Errorf("step %q must be a number from 1 to %d", stepStr, f.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	a, err := f.value(lo)
	if err != nil {
		return err
	}
	if isRange {
		b, err := f.value(hi)
		if err != nil {
			return err
		}
		// EventBridge accepts wrap-around ranges only for day-of-week and
		// month (FRI-MON); elsewhere the range must ascend.
		if b < a && f.names == nil {
			return fmt.Errorf("range %s-%s runs backwards", lo, hi)
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(n, s) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number from %d to %d or a name %s–%s", s, f.min, f.max, f.names[0], f.names[len(f.names)-1])
		}
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, f.min, f.max)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d–%d", n, f.min, f.max)
	}
	return n, nil
}
