package localstack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lineLogger splits a process's output into log events: a line per line, a
// frame (however many lines) as one, whatever the pipe's read sizes.
func TestLineLogger(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   [][]byte
		want []string
	}{
		{"lines", [][]byte{[]byte("a\nb\n")}, []string{"a", "b"}},
		{"a line over two reads", [][]byte{[]byte("ab"), []byte("c\nd\n")}, []string{"abc", "d"}},
		{"a frame is one event", [][]byte{[]byte("a\n"), logFrame("x\ny"), []byte("b\n")}, []string{"a", "x\ny", "b"}},
		{"a frame split across reads", [][]byte{logFrame("x\ny")[:6], logFrame("x\ny")[6:]}, []string{"x\ny"}},
		// process.stdout.write("partial") and then the engine's END frame:
		// two events, in that order, not one glued line.
		{"an unfinished line before a frame", [][]byte{[]byte("partial"), logFrame("END RequestId: 1"), []byte("next\n")},
			[]string{"partial", "END RequestId: 1", "next"}},
		{"an unfinished line before a frame in one read", [][]byte{append([]byte("partial"), logFrame("END")...)}, []string{"partial", "END"}},
		{"magic split across reads", [][]byte{append([]byte("p"), logFrame("E")[:2]...), logFrame("E")[2:]}, []string{"p", "E"}},
		{"non-ASCII text", [][]byte{[]byte("¥Z café\n")}, []string{"¥Z café"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			l := &lineLogger{line: func(s string) { got = append(got, s) }}
			for _, b := range tc.in {
				if _, err := l.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			l.flush()
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}
