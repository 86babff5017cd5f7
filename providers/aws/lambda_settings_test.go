package aws

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestLambdaFunctionSettings(t *testing.T) {
	gaps := kumoGaps
	if emulatorName(t) == "moto" {
		gaps = motoGaps
	}
	testFunctionSettings(t, testConfig(t), gaps)
}

// emulatorGaps names, per attribute, how an emulator departs from AWS in
// testFunctionSettings; each departure is logged as a gap, any other
// difference fails.
type emulatorGaps struct {
	name string
	// unreported: GetFunction never reports the setting.
	unreported map[string]bool
	// updateIgnored: UpdateFunctionConfiguration leaves the setting as it was.
	updateIgnored map[string]bool
	// noConcurrency: PutFunctionConcurrency is not implemented.
	noConcurrency bool
	// noLayers: PublishLayerVersion is not implemented.
	noLayers bool
	// conditionsDropped: AddPermission's FunctionUrlAuthType and
	// InvokedViaFunctionUrl do not show in the policy.
	conditionsDropped bool
}

var (
	// kumo's Lambda ignores these settings altogether (accepts, never reports).
	kumoGaps = emulatorGaps{name: "kumo", unreported: map[string]bool{
		"layers": true, "tracing_mode": true, "ephemeral_storage": true, "vpc_subnet_ids": true, "vpc_security_group_ids": true,
	}, noConcurrency: true, noLayers: true, conditionsDropped: true}
	motoGaps = emulatorGaps{name: "moto", updateIgnored: map[string]bool{"tracing_mode": true, "ephemeral_storage": true}, conditionsDropped: true}
)

// testFunctionSettings creates a function with every setting of issue 14
// (layers, tracing, ephemeral storage, VPC, reserved concurrency), reads it
// back, changes one setting, removes them all, and manages its URL and the
// public URL permissions. gaps says what the emulator cannot do.
func testFunctionSettings(t *testing.T, cfg aws.Config, gaps emulatorGaps) {
	ctx := testContext(t)
	c := newClients(cfg)
	h := newLambdaFunction(c)
	role := testRoleARN(t, c)
	zipPath, sha := testZip(t, "settings")
	layer := "arn:aws:lambda:us-east-1:000000000000:layer:deps:1"
	if !gaps.noLayers {
		zip, err := os.ReadFile(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName: aws.String(uniqueName("deps")), Content: &lambdatypes.LayerVersionContentInput{ZipFile: zip},
			CompatibleRuntimes: []lambdatypes.Runtime{lambdatypes.RuntimeProvidedal2023},
		})
		if err != nil {
			t.Fatalf("PublishLayerVersion: %v", err)
		}
		layer = aws.ToString(out.LayerVersionArn)
	}
	name := uniqueName("fn")
	desired := planner.Attrs{
		"function_name": name, "role": role, "runtime": "provided.al2023", "handler": "bootstrap",
		"code_sha256": sha, "code_path": zipPath,
		"layers": []any{layer}, "tracing_mode": "Active", "ephemeral_storage": int64(1024),
		"vpc_subnet_ids": []any{"subnet-0123456789abcdef0"}, "vpc_security_group_ids": []any{"sg-0123456789abcdef0"},
		"reserved_concurrency": int64(5),
	}
	if gaps.noConcurrency {
		desired["reserved_concurrency"] = nil
		t.Logf("%s gap: no PutFunctionConcurrency; reserved concurrency is not tested here", gaps.name)
	}
	// What Read must report; an emulator may leave out what it does not
	// keep, never report another value.
	var last planner.Attrs // the previous read
	check := func(step string, want planner.Attrs) planner.Attrs {
		t.Helper()
		got, exists, err := h.Read(ctx, name, nil)
		if err != nil || !exists {
			t.Fatalf("%s: Read = %v, %v", step, exists, err)
		}
		for _, k := range []string{"layers", "tracing_mode", "ephemeral_storage", "vpc_subnet_ids", "vpc_security_group_ids", "reserved_concurrency"} {
			w, g, hasG := want[k], got[k], got.Has(k)
			switch {
			case (w == nil || planner.Equal(w, []any{})) && !hasG:
			case hasG && planner.Equal(w, g):
			case !hasG && gaps.unreported[k]:
				t.Logf("%s gap: GetFunction does not report %s", gaps.name, k)
			case hasG && gaps.updateIgnored[k] && last != nil && planner.Equal(last[k], g):
				t.Logf("%s gap: UpdateFunctionConfiguration left %s at %v (want %v)", gaps.name, k, g, w)
			default:
				t.Errorf("%s: %s = %v, want %v", step, k, g, w)
			}
		}
		last = got
		return got
	}
	if _, _, err := h.Create(ctx, desired); err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { h.Delete(context.WithoutCancel(ctx), name, nil) })
	got := check("after Create", desired)

	one := desired.Norm()
	one["ephemeral_storage"] = int64(2048)
	if _, err := h.Update(ctx, name, got, one); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got = check("after changing ephemeral storage", one)

	off := desired.Norm()
	off["layers"], off["tracing_mode"], off["ephemeral_storage"] = []any{}, "PassThrough", int64(512)
	off["vpc_subnet_ids"], off["vpc_security_group_ids"], off["reserved_concurrency"] = []any{}, []any{}, nil
	if _, err := h.Update(ctx, name, got, off); err != nil {
		t.Fatalf("Update removing the settings: %v", err)
	}
	check("after removing the settings", off)

	// The URL: created, read back, its auth changed in place, deleted.
	uh := newLambdaFunctionURL(c)
	id, created, err := uh.Create(ctx, planner.Attrs{"function_name": name, "auth_type": "AWS_IAM"})
	if err != nil {
		t.Fatalf("URL Create: %v", err)
	}
	if u := created.String("url"); !strings.HasPrefix(u, "http") {
		t.Errorf("url = %q, want an HTTP(S) URL", u)
	}
	read, exists, err := uh.Read(ctx, id, nil)
	if err != nil || !exists {
		t.Fatalf("URL Read = %v, %v", exists, err)
	}
	if d := cmp.Diff(created, read); d != "" {
		t.Errorf("URL Read differs from Create (-create +read):\n%s", d)
	}
	if _, err := uh.Update(ctx, id, read, planner.Attrs{"function_name": name, "auth_type": "NONE"}); err != nil {
		t.Fatalf("URL Update: %v", err)
	}
	if read, _, _ = uh.Read(ctx, id, nil); read.String("auth_type") != "NONE" {
		t.Errorf("auth_type after Update = %q, want NONE", read.String("auth_type"))
	}

	// The public URL's two statements read back with their conditions.
	ph := newLambdaPermission(c)
	for _, p := range []planner.Attrs{
		{"function_name": name, "statement_id": "evdeploy-url-invoke-url", "action": "lambda:InvokeFunctionUrl", "principal": "*", "function_url_auth_type": "NONE"},
		{"function_name": name, "statement_id": "evdeploy-url-invoke", "action": "lambda:InvokeFunction", "principal": "*", "invoked_via_function_url": true},
	} {
		pid, _, err := ph.Create(ctx, p)
		if err != nil {
			t.Fatalf("permission %s: %v", p.String("statement_id"), err)
		}
		got, exists, err := ph.Read(ctx, pid, nil)
		if err != nil || !exists {
			t.Fatalf("permission Read = %v, %v", exists, err)
		}
		if d := cmp.Diff(p.Norm(), got); d != "" {
			if gaps.conditionsDropped {
				t.Logf("%s gap: the URL permission's condition does not read back (-want +got):\n%s", gaps.name, d)
			} else {
				t.Errorf("permission %s (-want +got):\n%s", pid, d)
			}
		}
		assertDeletedForGood(t, ctx, ph, pid, got)
	}
	assertDeletedForGood(t, ctx, uh, id, read)
}
