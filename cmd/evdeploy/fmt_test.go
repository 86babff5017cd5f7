package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// copyExample copies the SPEC example project's spec into a new folder.
func copyExample(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../examples/shop/evdeploy.evd.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "evdeploy.evd.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFmtSpecExample(t *testing.T) {
	dir := copyExample(t)
	file := filepath.Join(dir, "evdeploy.evd.hcl")
	before, _ := os.ReadFile(file)

	// The SPEC example is written by hand: aligned comments are not canonical.
	out, errOut, code := runEvd(t, "fmt", "--check", "-C", dir)
	if code != exitError {
		t.Fatalf("fmt --check on the hand-written example: exit %d, want 1", code)
	}
	if diff := cmp.Diff("needs formatting: "+file+"\n", out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "1 file is not formatted") {
		t.Errorf("stderr: %q", errOut)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("--check changed the file")
	}

	out, errOut, code = runEvd(t, "fmt", "-C", dir)
	if code != 0 || errOut != "" || out != file+"\n" {
		t.Fatalf("fmt: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runEvd(t, "fmt", "--check", "-C", dir)
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("fmt --check after fmt: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Formatting changed layout only: the meaning is the same.
	after, _ := os.ReadFile(file)
	squash := func(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }
	if squash(before) != squash(after) {
		t.Errorf("fmt changed more than whitespace")
	}
}

func TestFmtFiles(t *testing.T) {
	dir := t.TempDir()
	ugly := filepath.Join(dir, "a.evd.hcl")
	broken := filepath.Join(dir, "b.evd.hcl")
	if err := os.WriteFile(ugly, []byte("queue \"q\" {\nfifo=true\n  delay =   \"1s\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("queue \"q\" {\n  fifo = = true\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runEvd(t, "fmt", "--no-color", ugly, broken)
	if code != exitError {
		t.Errorf("exit %d, want 1 for the syntax error", code)
	}
	if out != ugly+"\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "Invalid expression") || !strings.Contains(errOut, "b.evd.hcl line 2") {
		t.Errorf("stderr lacks the syntax error:\n%s", errOut)
	}
	got, _ := os.ReadFile(ugly)
	if diff := cmp.Diff("queue \"q\" {\n  fifo  = true\n  delay = \"1s\"\n}\n", string(got)); diff != "" {
		t.Errorf("formatted (-want +got):\n%s", diff)
	}
	if st, _ := os.Stat(ugly); st.Mode().Perm() != 0o600 {
		t.Errorf("fmt changed the file mode to %v", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(broken); string(b) != "queue \"q\" {\n  fifo = = true\n}\n" {
		t.Errorf("fmt rewrote a file with syntax errors")
	}

	if _, _, code := runEvd(t, "fmt", "-C", t.TempDir()); code != exitError {
		t.Errorf("fmt in an empty folder: exit %d, want 1", code)
	}
}

func TestFmtDiff(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.evd.hcl")
	src := "app \"x\" {}\n\nqueue \"q\" {\nfifo=true\n  delay =   \"1s\"\n}\n\nbus \"b\" {}\nbus \"c\" {}\nbus \"d\" {}\nbus \"e\" {}\n\ntopic \"t\" {\nfifo=true\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runEvd(t, "fmt", "--check", "--diff", "-C", dir)
	if code != exitError {
		t.Errorf("exit %d, want 1", code)
	}
	want := "--- " + file + "\n+++ " + file + " (formatted)\n" +
		"@@ -1,8 +1,8 @@\n" +
		" app \"x\" {}\n \n queue \"q\" {\n-fifo=true\n-  delay =   \"1s\"\n+  fifo  = true\n+  delay = \"1s\"\n }\n \n bus \"b\" {}\n" +
		"@@ -11,5 +11,5 @@\n" +
		" bus \"e\" {}\n \n topic \"t\" {\n-fifo=true\n+  fifo = true\n }\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("diff output (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(file); string(b) != src {
		t.Errorf("--check --diff changed the file")
	}
}
