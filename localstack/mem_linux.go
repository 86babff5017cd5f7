package localstack

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memoryMeasured: Max Memory Used and the memory limit need /proc.
const memoryMeasured = true

// treeMemoryMB is the memory of pid and its descendants in MB: their peak
// resident sizes (VmHWM) summed when peak, else their current ones (VmRSS).
// A sum of peaks can overstate a tree whose members peaked at different
// times; a function's tree is one process nearly always.
func treeMemoryMB(pid int, peak bool) int {
	field := "VmRSS:"
	if peak {
		field = "VmHWM:"
	}
	kb := 0
	seen := map[int]bool{}
	var walk func(int)
	walk = func(p int) {
		if seen[p] || len(seen) > 256 {
			return
		}
		seen[p] = true
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			for _, l := range bytes.Split(b, []byte("\n")) {
				if v, ok := bytes.CutPrefix(l, []byte(field)); ok {
					f := strings.Fields(string(v))
					if len(f) > 0 {
						n, _ := strconv.Atoi(f[0])
						kb += n
					}
				}
			}
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, t := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, t.Name()))
			if err != nil {
				continue
			}
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					walk(n)
				}
			}
		}
	}
	walk(pid)
	return (kb + 1023) / 1024
}
