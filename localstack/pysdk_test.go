package localstack

import (
	"os/exec"
	"testing"
)

func mustLook(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not on PATH", name)
	}
	return p
}

// An exact-version interpreter without boto3 imports it from the folder the
// engine lends, as a handler on Lambda imports the runtime's SDK; one that
// has boto3 is lent nothing.
func TestPythonSDKLent(t *testing.T) {
	if !hasBoto3(mustLook(t, "python3")) {
		t.Skip("the default python3 has no boto3 to lend")
	}
	if got := pythonSDKDir(mustLook(t, "python3"), t.TempDir()); got != "" {
		t.Errorf("python3 has boto3, yet was lent %s", got)
	}
	var bare string
	for _, rt := range []string{"python3.12", "python3.13", "python3.10"} {
		if p := exactInterpreter(rt); p != "" && !hasBoto3(p) {
			bare = p
			break
		}
	}
	if bare == "" {
		t.Skip("no interpreter without boto3 on this machine")
	}
	dir := pythonSDKDir(bare, t.TempDir())
	if dir == "" {
		t.Fatalf("%s has no boto3 and was lent none", bare)
	}
	script := "import sys; sys.path.append(sys.argv[1]); import boto3; boto3.client('sqs', region_name='us-east-1'); print(boto3.__file__)"
	out, err := exec.Command(bare, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%s with %s: %v\n%s", bare, dir, err, out)
	}
}
