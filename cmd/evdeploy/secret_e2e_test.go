package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/evdeploy/evdeploy/internal/motoserver"
)

// secretApp is a held-out app: an SSM secret and a Secrets Manager secret,
// read at run time by a Python function that answers with their SHA-256s
// (so the proof it read them never prints them).
const secretApp = `app "vault" {}

secret "api_key" {
  description = "third-party API key"
}

secret "db" {
  store       = "secretsmanager"
  description = "database password"
}

function "api" {
  runtime     = "__RUNTIME__"
  source      = "./fn"
  handler     = "main.handler"
  uses        = [secret.api_key.read, secret.db.read]
  environment = { KEY_NAME = secret.api_key.name, DB_ARN = secret.db.arn }
}

output "key_name" {
  value = secret.api_key.name
}
`

const secretFn = `import hashlib, os
import boto3

def handler(event, context):
    key = boto3.client("ssm").get_parameter(Name=os.environ["KEY_NAME"], WithDecryption=True)["Parameter"]["Value"]
    db = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DB_ARN"])["SecretString"]
    return {"ssm": hashlib.sha256(key.encode()).hexdigest(), "sm": hashlib.sha256(db.encode()).hexdigest()}
`

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// evdIn runs evdeploy with stdin.
func evdIn(t *testing.T, stdin string, want int, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	r := result{code, out.String(), errOut.String()}
	if code != want {
		t.Fatalf("evdeploy %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, r.out, r.errOut)
	}
	return r
}

// The done-when on the embedded engine: after `secret set` from
// stdin the function reads both values; a second `secret set` is seen by
// the next invocation with no apply; plan stays clean; the role's policy
// names exactly the two ARNs; no value appears in anything evdeploy prints
// or writes, nor in the function's configuration; destroy needs
// --allow-data-loss once the secrets hold values.
func TestE2ESecretsOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// The engine runs pythonX.Y on that version's interpreter: name the
	// version whose python3 has boto3.
	ver, err := exec.Command("python3", "-c", "import sys, boto3; print('python%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Skip("needs python3 with boto3 (the function reads the secrets with it)")
	}
	runtimeName := strings.TrimSpace(string(ver))
	port := localEngineUp(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	const (
		key1 = "key-Vq8mZ3xR1pLs"
		key2 = "key-Hn4cT7wQ9bKe"
		db1  = "db-Pz2yF6gJ5sUa"
	)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"evdeploy.evd.hcl": strings.Replace(secretApp, "__RUNTIME__", runtimeName, 1), "fn/main.py": secretFn})
	stage := uniqueStage("sec")
	common := []string{"-C", dir, "--stage", stage, "--target", "local"}
	var printed []string
	step := func(stdin string, want int, args ...string) result {
		t.Helper()
		r := evdIn(t, stdin, want, append(args, common...)...)
		printed = append(printed, strings.Join(args, " ")+"\n"+r.out+r.errOut)
		return r
	}

	r := step("", 0, "apply", "--auto-approve")
	for _, name := range []string{"api_key", "db"} {
		if want := "run evdeploy secret set " + name; !strings.Contains(r.errOut, want) {
			t.Errorf("apply does not warn %q:\n%s", want, r.errOut)
		}
	}
	step("", 0, "plan", "--detailed-exitcode")
	step(key1+"\n", 0, "secret", "set", "api_key")
	step(db1, 0, "secret", "set", "db")
	if r := step("", 0, "plan", "--detailed-exitcode"); strings.Contains(r.errOut, "secret set") {
		t.Errorf("plan still warns after secret set:\n%s", r.errOut)
	}
	r = step("", 0, "invoke", "api")
	if !strings.Contains(r.out, sha(key1)) || !strings.Contains(r.out, sha(db1)) {
		t.Fatalf("the function did not read both values: %s", r.out)
	}
	step(key2, 0, "secret", "set", "api_key")
	r = step("", 0, "invoke", "api")
	if !strings.Contains(r.out, sha(key2)) || !strings.Contains(r.out, sha(db1)) {
		t.Fatalf("after a second secret set, the function read %s; want the new key", r.out)
	}

	planFile := filepath.Join(t.TempDir(), "saved.plan")
	step("", 0, "plan", "--detailed-exitcode", "--log-level", "debug")
	step("", 0, "plan", "--detail", "--json")
	step("", 0, "plan", "-out", planFile)
	step("", 0, "apply", "--auto-approve", "--log-level", "debug", planFile)
	step("", 0, "output")
	step("", 0, "output", "--json")
	r = step("", 0, "secret", "list")
	if !strings.Contains(r.out, "api_key") || !strings.Contains(r.out, "secretsmanager") || strings.Count(r.out, " set ") != 2 {
		t.Errorf("secret list:\n%s", r.out)
	}
	step("", 1, "secret", "set", "api_key", "--from-file", filepath.Join(dir, "missing.txt"))
	if r := evd(t, append([]string{"secret", "set", "api_key", key1}, common...)...); r.code == 0 {
		t.Errorf("secret set accepted the value as an argument")
	}

	// What was deployed, read with independent clients.
	ctx := context.Background()
	cfg := sdkConfig(endpoint)
	doc := readStateFile(t, dir, stage)
	var st struct {
		Resources []struct {
			Addr string         `json:"addr"`
			ID   string         `json:"id"`
			Attr map[string]any `json:"attrs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatalf("state: %v", err)
	}
	ids := map[string]string{}
	arns := map[string]string{}
	for _, r := range st.Resources {
		ids[r.Addr] = r.ID
		if a, ok := r.Attr["arn"].(string); ok {
			arns[r.Addr] = a
		}
	}
	paramARN, secretARN := arns["secret.api_key/aws_ssm_parameter.main"], arns["secret.db/aws_secretsmanager_secret.main"]
	if paramARN == "" || secretARN == "" {
		t.Fatalf("state lacks the secrets' ARNs: %v", arns)
	}
	pol, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(ids["function.api/aws_iam_role.main"]), PolicyName: aws.String("evdeploy")})
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(pol.PolicyDocument)), &policy); err != nil {
		t.Fatalf("policy: %v", err)
	}
	var secretRes []string
	for _, s := range policy.Statement {
		for _, r := range s.Resource {
			if r == "*" {
				t.Errorf("the role's policy has Resource *: %s", aws.ToString(pol.PolicyDocument))
			}
		}
		if slices.ContainsFunc(s.Action, func(a string) bool { return strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "secretsmanager:") }) {
			secretRes = append(secretRes, s.Resource...)
		}
	}
	sort.Strings(secretRes)
	want := []string{paramARN, secretARN}
	sort.Strings(want)
	if !slices.Equal(secretRes, want) {
		t.Errorf("the role's secret statements name %v; want exactly %v", secretRes, want)
	}
	fn, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(ids["function.api/aws_lambda_function.main"])})
	if err != nil {
		t.Fatal(err)
	}
	fnConf, _ := json.Marshal(fn)
	files := map[string]string{"function configuration": string(fnConf), "state": doc, "saved plan": string(readFile(t, planFile))}
	if b, err := os.ReadFile(filepath.Join(dir, ".evdeploy", "state", stage+".json.log")); err == nil {
		files["state change log"] = string(b)
	}

	// Destroy: the secrets hold values.
	if r := step("", 1, "destroy", "--auto-approve"); !strings.Contains(r.errOut, "allow-data-loss") {
		t.Errorf("destroy without --allow-data-loss: %s", r.errOut)
	}
	step("", 0, "destroy", "--auto-approve", "--allow-data-loss")
	if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ids["secret.api_key/aws_ssm_parameter.main"])}); err == nil {
		t.Errorf("the SSM parameter is still there after destroy")
	}
	if d, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretARN)}); err == nil && d.DeletedDate == nil {
		t.Errorf("the secret is still there after destroy")
	}

	for what, text := range files {
		printed = append(printed, what+"\n"+text)
	}
	for _, out := range printed {
		for _, v := range []string{key1, key2, db1} {
			if strings.Contains(out, v) {
				t.Errorf("a secret value (%s) appears in:\n%s", v, out)
			}
		}
	}
}

// On moto: apply, a clean re-plan and destroy; an existing secret is read
// (granted) but never written or deleted.
func TestE2ESecretsMotoExisting(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := motoserver.URL(t)
	ctx := context.Background()
	cfg := sdkConfig(emu)
	stage := uniqueStage("sx")
	sm := secretsmanager.NewFromConfig(cfg)
	made, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/" + stage + "/db"), SecretString: aws.String("made-elsewhere")})
	if err != nil {
		t.Fatal(err)
	}
	ps := ssm.NewFromConfig(cfg)
	if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/prod/" + stage + "/token"), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("param-elsewhere")}); err != nil {
		t.Fatal(err)
	}
	before, err := ps.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/prod/" + stage + "/token"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"evdeploy.evd.hcl": fmt.Sprintf(`app "vaultx" {}

secret "own" {
  store = "secretsmanager"
}

secret "db" {
  existing = %q
}

secret "token" {
  existing = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/%s/token"
}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  uses    = [secret.own.read, secret.db.read, secret.token.read]
}
`, aws.ToString(made.ARN), stage),
		"fn/main.py": "def handler(event, context):\n    return {}\n",
	})
	common := []string{"-C", dir, "--stage", stage, "--target", "local", "--endpoint", emu}
	mustEvd(t, 0, append([]string{"apply", "--auto-approve"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	evdIn(t, "mine", 0, append([]string{"secret", "set", "own"}, common...)...)
	if r := evdIn(t, "overwrite", 1, append([]string{"secret", "set", "db"}, common...)...); !strings.Contains(r.errOut, "never writes") {
		t.Errorf("secret set of an existing secret: %s", r.errOut)
	}
	evdIn(t, "overwrite", 1, append([]string{"secret", "set", "token"}, common...)...)
	mustEvd(t, 0, append([]string{"plan", "--detailed-exitcode"}, common...)...)
	mustEvd(t, 0, append([]string{"destroy", "--auto-approve", "--allow-data-loss"}, common...)...)

	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: made.ARN})
	if err != nil || aws.ToString(got.SecretString) != "made-elsewhere" || aws.ToString(got.VersionId) != aws.ToString(made.VersionId) {
		t.Errorf("the existing secret after destroy: %v, %v; want it untouched", got, err)
	}
	after, err := ps.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/prod/" + stage + "/token"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(after.Parameter.Value) != "param-elsewhere" || after.Parameter.Version != before.Parameter.Version {
		t.Errorf("the existing parameter after destroy: %v, %v; want it untouched", after, err)
	}
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("vaultx/" + stage + "/own")}); err == nil {
		t.Errorf("evdeploy's own secret is still there after destroy --allow-data-loss")
	}
}
