package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := map[string]struct {
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		"no build info":             {linked: "dev", want: "dev"},
		"link-time version wins":    {linked: "v1.2.3", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}}, want: "v1.2.3"},
		"go install module version": {linked: "dev", bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.4.1"}}, want: "v0.4.1"},
		"checkout build: revision": {linked: "dev", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("87ce0aaababd4f2bcedcd4a44253bc0243ee56ed", "false")}, want: "dev (rev 87ce0aaababd)"},
		"uncommitted changes": {linked: "dev", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("87ce0aaababd4f2bcedcd4a44253bc0243ee56ed", "true")}, want: "dev (rev 87ce0aaababd+dirty)"},
		"tag and revision": {linked: "v0.3.0", bi: &debug.BuildInfo{Settings: vcs("abc", "false")}, want: "v0.3.0 (rev abc)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := versionFrom(tt.linked, tt.bi); got != tt.want {
				t.Errorf("versionFrom = %q, want %q", got, tt.want)
			}
		})
	}
}

// The binary built the way make build and make dist build it says which
// commit it is, not "dev".
func TestVersionLinkedByMake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "evdeploy")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7-3-g87ce0aa", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "evdeploy v9.8.7-3-g87ce0aa") {
		t.Errorf("version printed %q", out)
	}
}
