package aws

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/internal/motoserver"
	"github.com/evdeploy/evdeploy/planner"
)

// TestPipesPipeLifecycle runs against both emulators: a pipe from a queue to
// another queue, with a filter and a batch size, updated in place, then
// deleted.
func TestPipesPipeLifecycle(t *testing.T) {
	for _, emu := range []struct {
		name string
		cfg  func(t *testing.T) aws.Config
	}{
		{"kumo", func(t *testing.T) aws.Config { return testConfig(t) }},
		{"moto", func(t *testing.T) aws.Config { return motoserver.Config(t) }},
	} {
		t.Run(emu.name, func(t *testing.T) {
			ctx := testContext(t)
			c := newClients(emu.cfg(t))
			h, queues := newPipesPipe(c), newSQSQueue(c)
			var arns []string
			for _, n := range []string{"src", "dst"} {
				url, q, err := queues.Create(ctx, planner.Attrs{"name": uniqueName(n)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { queues.Delete(planner.WithAllowDataLoss(ctx), url, nil) })
				arns = append(arns, q.String("arn"))
			}
			role := testRoleARN(t, c)
			name := uniqueName("pipe")
			if _, exists, err := h.Read(ctx, name, nil); err != nil || exists {
				t.Fatalf("Read before Create = %v, %v", exists, err)
			}
			desired := planner.Attrs{
				"name": name, "role_arn": role, "source": arns[0], "target": arns[1], "desired_state": "RUNNING",
				"batch_size": int64(5), "filter": `{"body":{"kind":["order"]}}`, "tags": map[string]any{"evdeploy:app": "t"},
			}
			id, created, err := h.Create(ctx, desired)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if id != name {
				t.Errorf("id = %q, want %q", id, name)
			}
			want := desired.Norm()
			want["arn"] = created["arn"]
			got, exists, err := h.Read(ctx, id, created)
			if err != nil || !exists {
				t.Fatalf("Read = %v, %v", exists, err)
			}
			// Read reports only what the service returns: compare those.
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Logf("%s gap: DescribePipe does not report %q", emu.name, k)
					delete(want, k)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
			if _, _, err := h.Create(ctx, desired); !errors.Is(err, planner.ErrAlreadyExists) {
				t.Errorf("second Create = %v, want ErrAlreadyExists", err)
			}
			if emu.name == "moto" {
				// moto gap: no UpdatePipe (500); updates are checked on kumo.
				t.Log("moto gap: UpdatePipe is not implemented")
				assertDeletedForGood(t, ctx, h, id, created)
				return
			}
			next := desired.Norm()
			next["batch_size"] = int64(10)
			next["filter"] = nil
			after, err := h.Update(ctx, id, got, next)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if v, ok := after["batch_size"]; ok && !planner.Equal(v, int64(10)) {
				t.Errorf("batch_size after Update = %v, want 10", v)
			}
			if v, ok := after["filter"]; ok {
				t.Errorf("filter after Update = %v, want none", v)
			}
			assertDeletedForGood(t, ctx, h, id, after)
		})
	}
}
