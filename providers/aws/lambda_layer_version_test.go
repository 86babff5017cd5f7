package aws

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

// TestLambdaLayerVersionLifecycle publishes a layer version, reads it back,
// publishes a second (new content) and deletes both. kumo has no
// PublishLayerVersion: there the test checks the failure names the layer.
func TestLambdaLayerVersionLifecycle(t *testing.T) {
	ctx := testContext(t)
	h := newLambdaLayerVersion(newClients(testConfig(t)))
	name := uniqueName("deps")
	path, sha := testZip(t, "def helper():\n    return 1\n")
	desired := planner.Attrs{
		"layer_name":          name,
		"compatible_runtimes": []any{"python3.12", "python3.13"},
		"description":         "evdeploy: layer.deps",
		"code_sha256":         sha,
		"code_path":           path,
	}
	if emulatorName(t) == "kumo" {
		_, _, err := h.Create(ctx, desired)
		if err == nil || !strings.Contains(err.Error(), "layer "+name) {
			t.Fatalf("Create on kumo = %v, want an error naming layer %s", err, name)
		}
		t.Logf("kumo gap: no PublishLayerVersion (%v)", err)
		return
	}
	id, created, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { h.Delete(ctx, id, nil) })
	if !strings.HasSuffix(id, ":layer:"+name+":1") {
		t.Errorf("id = %q, want the version 1 ARN of %s", id, name)
	}
	want := planner.Attrs{
		"layer_name":          name,
		"compatible_runtimes": []any{"python3.12", "python3.13"},
		"description":         "evdeploy: layer.deps",
		"code_sha256":         sha,
		"arn":                 id,
		"version":             int64(1),
	}
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("Create (-want +got):\n%s", d)
	}
	got, exists, err := h.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}

	// A publish whose answer was lost is found by content.
	if got, _, found, err := h.Find(ctx, desired); err != nil || !found || got != id {
		t.Errorf("Find = %q, %v, %v; want %q", got, found, err, id)
	}
	other := planner.Attrs{"layer_name": name, "compatible_runtimes": []any{"python3.12"}, "code_sha256": sha}
	if got, _, found, err := h.Find(ctx, other); err != nil || found {
		t.Errorf("Find with other runtimes = %q, %v, %v; want not found", got, found, err)
	}

	// New content: a new version; the old one is deleted (replacement).
	path2, sha2 := testZip(t, "def helper():\n    return 2\n")
	desired["code_path"], desired["code_sha256"] = path2, sha2
	id2, created2, err := h.Create(ctx, desired)
	if err != nil {
		t.Fatalf("Create version 2: %v", err)
	}
	t.Cleanup(func() { h.Delete(ctx, id2, nil) })
	if !strings.HasSuffix(id2, ":layer:"+name+":2") || created2.String("code_sha256") != sha2 {
		t.Errorf("version 2 = %q, %v", id2, created2)
	}
	for _, v := range []string{id, id2} {
		if err := h.Delete(ctx, v, nil); err != nil {
			t.Fatalf("Delete %s: %v", v, err)
		}
		if _, exists, err := h.Read(ctx, v, nil); err != nil || exists {
			t.Errorf("Read after Delete %s = %v, %v", v, exists, err)
		}
		if err := h.Delete(ctx, v, nil); err != nil {
			t.Errorf("Delete twice %s: %v", v, err)
		}
	}
	if _, _, found, err := h.Find(ctx, desired); err != nil || found {
		t.Errorf("Find after Delete = %v, %v", found, err)
	}
	if _, _, err := h.Read(ctx, "arn:aws:lambda:us-east-1:123456789012:function:nope", nil); err == nil {
		t.Error("Read of a function ARN: no error")
	}
}
