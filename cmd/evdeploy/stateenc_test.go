package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// With state_encryption, the state file, its change log and a saved plan
// hold none of the spec's names in clear; a wrong passphrase stops plan
// with a clear error and leaves the state byte-for-byte as it was; the key
// is rotated with fallback; apply, a clean re-plan and destroy work.
func TestE2EStateEncryption(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := emulator(t)
	dir := t.TempDir()
	spec := func(enc string) string {
		return `app "strongbox" {
  state_encryption {
` + enc + `
  }
}

variable "state_passphrase" {
  sensitive = true
}

variable "old_passphrase" {
  sensitive = true
  default   = ""
}

queue "orders_inbox" {}

function "ledger_writer" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  uses    = [queue.orders_inbox.send]
}
`
	}
	writeTree(t, dir, map[string]string{
		"evdeploy.evd.hcl": spec(`    passphrase = var.state_passphrase`),
		"fn/main.py":       "def handler(event, context):\n    return {}\n",
	})
	stage := uniqueStage("enc")
	args := func(pass string, a ...string) []string {
		return append(a, "-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu, "--var", "state_passphrase="+pass)
	}
	const pass1, pass2 = "first passphrase, long enough", "second passphrase, rotated in"
	statePath := filepath.Join(dir, ".evdeploy", "state", stage+".json")
	planFile := filepath.Join(t.TempDir(), "saved.plan")

	mustEvd(t, 0, args(pass1, "plan", "-out", planFile)...)
	mustEvd(t, 0, args(pass1, "apply", "--auto-approve", planFile)...)
	mustEvd(t, 0, args(pass1, "plan", "--detailed-exitcode")...)
	mustEvd(t, 0, args(pass1, "plan", "-out", planFile)...)
	mustEvd(t, 0, args(pass1, "state", "list")...)
	files := map[string]string{"state": string(readFile(t, statePath)), "saved plan": string(readFile(t, planFile))}
	if b, err := os.ReadFile(statePath + ".log"); err == nil {
		files["change log"] = string(b)
	}
	for what, text := range files {
		for _, name := range []string{"strongbox", "orders_inbox", "ledger_writer", "aws_sqs_queue", stage} {
			if strings.Contains(text, name) {
				t.Errorf("the %s contains %q in clear", what, name)
			}
		}
	}

	// A wrong passphrase stops every command, and nothing is written.
	before := readFile(t, statePath)
	for _, cmd := range [][]string{{"plan"}, {"apply", "--auto-approve"}, {"destroy", "--auto-approve"}, {"output"}, {"apply", "--auto-approve", planFile}} {
		r := evd(t, args("a wrong passphrase entirely", cmd...)...)
		if r.code == 0 || !strings.Contains(r.errOut+r.out, "cannot decrypt") {
			t.Errorf("%v with a wrong passphrase: exit %d\n%s%s", cmd, r.code, r.out, r.errOut)
		}
		if after := readFile(t, statePath); string(after) != string(before) {
			t.Fatalf("%v with a wrong passphrase changed the state file", cmd)
		}
	}

	// Rotation: the new passphrase, the old one as a fallback; then the new
	// one alone.
	editFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), `    passphrase = var.state_passphrase`,
		"    passphrase = var.state_passphrase\n    fallback {\n      passphrase = var.old_passphrase\n    }")
	rot := append(args(pass2, "apply", "--auto-approve"), "--var", "old_passphrase="+pass1)
	mustEvd(t, 0, rot...)
	editFile(t, filepath.Join(dir, "evdeploy.evd.hcl"), "    fallback {\n      passphrase = var.old_passphrase\n    }", "")
	if r := evd(t, args(pass1, "plan")...); r.code == 0 {
		t.Errorf("the old passphrase still reads the state after rotation")
	}
	mustEvd(t, 0, args(pass2, "plan", "--detailed-exitcode")...)
	mustEvd(t, 0, args(pass2, "destroy", "--auto-approve", "--allow-data-loss")...)
}

// state_encryption with a KMS key (on kumo's KMS): the state is sealed with a
// KMS data key and read back.
func TestE2EStateEncryptionKMS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := emulator(t)
	key, err := kms.NewFromConfig(sdkConfig(emu)).CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"evdeploy.evd.hcl": `app "kmsbox" {
  state_encryption {
    kms_key = "` + aws.ToString(key.KeyMetadata.Arn) + `"
  }
}

queue "jobs_pending" {}
`,
	})
	stage := uniqueStage("kms")
	args := func(a ...string) []string {
		return append(a, "-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu)
	}
	mustEvd(t, 0, args("apply", "--auto-approve")...)
	mustEvd(t, 0, args("plan", "--detailed-exitcode")...)
	data := readFile(t, filepath.Join(dir, ".evdeploy", "state", stage+".json"))
	if !strings.Contains(string(data), `"method":"kms"`) || strings.Contains(string(data), "jobs_pending") {
		t.Errorf("state is not sealed with a KMS data key:\n%s", data)
	}
	mustEvd(t, 0, args("destroy", "--auto-approve", "--allow-data-loss")...)
}
