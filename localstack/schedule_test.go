package localstack

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		expr, from string
		want       []string // successive firing times
	}{
		{"rate(1 minute)", "2026-03-04 10:00", []string{"2026-03-04 10:01", "2026-03-04 10:02"}},
		{"rate(5 minutes)", "2026-03-04 10:00", []string{"2026-03-04 10:05"}},
		{"rate(2 hours)", "2026-03-04 10:00", []string{"2026-03-04 12:00"}},
		{"rate(1 day)", "2026-03-04 10:00", []string{"2026-03-05 10:00"}},
		{"cron(0 2 * * ? *)", "2026-03-04 10:00", []string{"2026-03-05 02:00", "2026-03-06 02:00"}},
		{"cron(*/15 * * * ? *)", "2026-03-04 10:07", []string{"2026-03-04 10:15", "2026-03-04 10:30"}},
		{"cron(0 18 ? * MON-FRI *)", "2026-03-06 19:00", []string{"2026-03-09 18:00"}}, // Friday evening → Monday
		{"cron(0 9 ? * 2#1 *)", "2026-03-04 00:00", []string{"2026-04-06 09:00"}},      // first Monday
		{"cron(0 0 L * ? *)", "2026-02-10 00:00", []string{"2026-02-28 00:00", "2026-03-31 00:00"}},
		{"cron(30 8 1 JAN,JUL ? 2027)", "2026-03-04 00:00", []string{"2027-01-01 08:30", "2027-07-01 08:30"}},
		{"cron(0 12 15W * ? *)", "2026-03-01 00:00", []string{"2026-03-16 12:00"}}, // 15 Mar 2026 is a Sunday
		{"cron(0 10 ? * 6L *)", "2026-03-01 00:00", []string{"2026-03-27 10:00"}},  // last Friday
	} {
		s, err := parseSchedule(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		cur := at(tc.from)
		for _, w := range tc.want {
			cur = s.next(cur)
			if !cur.Equal(at(w)) {
				t.Errorf("%s: next = %s, want %s", tc.expr, cur.Format("2006-01-02 15:04 Mon"), w)
				break
			}
		}
	}
	for _, bad := range []string{"rate(0 minutes)", "rate(5 weeks)", "rate(x minutes)", "cron(0 2 * *)", "cron(61 * * * ? *)", "cron(0 0 ? * 9 *)", "every 5 minutes"} {
		if _, err := parseSchedule(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestCheckpointsKept: stream read positions survive an engine restart when
// the engine keeps its data (KUMO_DATA_DIR), so a restarted engine does not
// deliver a stream's records again.
func TestCheckpointsKept(t *testing.T) {
	path := t.TempDir() + "/cp.json"
	var a checkpoints
	a.load(path)
	a.set("uuid/shard-0", "49")
	a.set("uuid/shard-1", "7")
	var b checkpoints
	b.load(path)
	if got := b.get("uuid/shard-0") + "," + b.get("uuid/shard-1"); got != "49,7" {
		t.Errorf("after a reload: %s, want 49,7", got)
	}
	var mem checkpoints // no path: in memory only
	mem.set("k", "1")
	if mem.get("k") != "1" {
		t.Error("in-memory checkpoint lost")
	}
}
