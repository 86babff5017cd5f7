package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExistingBlocks: the corpus's existing case names one block of every
// kind that takes existing; ExistingBlocks lists them in address order and
// ExistingOf finds each one's setting, nil for a block that is not one.
func TestExistingBlocks(t *testing.T) {
	app, files, diags := loadCase(t, "testdata/valid/existing.evd.hcl", testOptions())
	if diags.HasErrors() {
		t.Fatalf("load:\n%s", render(files, diags))
	}
	var got []string
	for _, a := range app.ExistingBlocks() {
		ex := app.ExistingOf(a)
		if ex == nil {
			t.Errorf("ExistingOf(%s) = nil for a listed block", a)
			continue
		}
		got = append(got, a.String()+" = "+ex.Value)
	}
	want := []string{
		"bucket.landing = acme-landing-zone",
		"bus.org = ", // app_outputs: known at plan time
		"queue.jobs = team-jobs",
		"stream.clicks = clicks",
		"table.core = core-dev-orders",
		"topic.news = arn:aws:sns:us-east-1:123456789012:news",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("existing blocks (-want +got):\n%s", diff)
	}
	for _, a := range []Addr{{Kind: KindFunction, Name: "worker"}, {Kind: KindQueue, Name: "nope"}} {
		if ex := app.ExistingOf(a); ex != nil {
			t.Errorf("ExistingOf(%s) = %+v, want nil", a, ex)
		}
	}
}
