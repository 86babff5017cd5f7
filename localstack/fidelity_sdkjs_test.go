package localstack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSDKFidelityJS runs common AWS SDK for JavaScript v3 idioms
// (testdata/fidelity/js/idioms.mjs) against the engine. The SDK comes from
// the npm registry with `npm ci` of the committed lockfile, once per lockfile
// (cached under the user cache dir).
func TestSDKFidelityJS(t *testing.T) {
	dir := jsSDKModules(t)
	ep := serveRunning(t, &lockedBuffer{})
	// ESM resolves packages from the script's own folder, so the script runs
	// from beside the cached node_modules (a private copy: tests may run at once).
	src, err := os.ReadFile("testdata/fidelity/js/idioms.mjs")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.CreateTemp(dir, "idioms-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(script.Name()) })
	if _, err := script.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := script.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "node", script.Name())
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	cmd.Env = append(env, "AWS_ENDPOINT_URL="+ep, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("JS SDK idioms: %v\n%s\n%s", err, out, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(got)
	want := []string{
		"ok dynamodb batch write", "ok dynamodb conditional write", "ok dynamodb counter", "ok dynamodb paginator",
		"ok dynamodb transaction", "ok eventbridge put events", "ok kinesis put records", "ok s3 multipart upload",
		"ok s3 presigned url", "ok sns publish and publish batch", "ok sqs batches and attributes",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("JS SDK idioms (-want +got):\n%s\nstderr:\n%s", d, stderr.String())
	}
}

// jsSDKModules returns a folder holding node_modules installed from
// testdata/fidelity/js's lockfile, installing it the first time.
func jsSDKModules(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("TestSDKFidelityJS needs %s (Node.js 20 or later with npm) on PATH: install Node.js (https://nodejs.org, or apt-get install nodejs npm): %v", tool, err)
		}
	}
	pkg, err := os.ReadFile("testdata/fidelity/js/package.json")
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile("testdata/fidelity/js/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	parent := filepath.Join(cache, "evdeploy", "fidelity-js")
	dir := filepath.Join(parent, hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	// Install into a fresh folder and rename it into place, so an interrupted
	// or concurrent install never leaves a half-filled cache entry.
	tmp, err := os.MkdirTemp(parent, "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci of the AWS SDK for JavaScript (testdata/fidelity/js): %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); statErr != nil {
			t.Fatalf("caching the JS SDK: %v", err)
		} // else another test process installed it first
	}
	return dir
}
