package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evdeploy/evdeploy/planner"
)

// lambdaFunctionAPI is the part of the Lambda API the function handler uses.
type lambdaFunctionAPI interface {
	lambda.GetFunctionAPIClient
	CreateFunction(context.Context, *lambda.CreateFunctionInput, ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	UpdateFunctionCode(context.Context, *lambda.UpdateFunctionCodeInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	TagResource(context.Context, *lambda.TagResourceInput, ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	UntagResource(context.Context, *lambda.UntagResourceInput, ...func(*lambda.Options)) (*lambda.UntagResourceOutput, error)
	DeleteFunction(context.Context, *lambda.DeleteFunctionInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	PutFunctionConcurrency(context.Context, *lambda.PutFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(context.Context, *lambda.DeleteFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error)
	functionPolicyAPI
}

// functionWait bounds how long Create and Update wait for a function to
// become Active and for an update to finish.
const functionWait = 5 * time.Minute

// lambdaFunction manages aws_lambda_function; its physical id is the function name.
type lambdaFunction struct {
	api lambdaFunctionAPI
	// policies holds resource policies the permissions' Prefetch read for
	// this refresh (one GetPolicy serves the function and its permissions).
	policies *readShare
	s3       packageUploader // stages packages too big for a direct upload
	staged   stagedPackages  // what this process has uploaded
	waitMin  time.Duration   // the waiters' first poll interval
}

// packageUploader is the part of the S3 API used to stage a package in the
// app's artifacts bucket.
type packageUploader interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

func newLambdaFunction(c *clients) *lambdaFunction {
	return &lambdaFunction{api: c.lambda, s3: c.s3, waitMin: time.Second, policies: &c.functionPolicies}
}

// packageCode returns where Lambda takes the package from: the zip itself,
// or — when the desired attributes name an artifacts bucket and key (packages
// over Lambda's direct-upload limit) — that object, uploaded here from
// code_path first.
func (h *lambdaFunction) packageCode(ctx context.Context, desired planner.Attrs) (zip []byte, bucket, key string, err error) {
	zip, bucket, key, err = functionCode(desired)
	if err != nil || zip == nil {
		return zip, bucket, key, err
	}
	bucket, key = desired.String("s3_bucket"), desired.String("s3_key")
	if bucket == "" || key == "" {
		return zip, "", "", nil
	}
	// Keys are named by content, so functions sharing a package share the
	// object: it is uploaded once per process, the others wait for it.
	unlock := h.staged.lock(bucket + "/" + key)
	defer unlock()
	if h.staged.done(bucket + "/" + key) {
		return nil, bucket, key, nil
	}
	if _, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(zip)}); err != nil {
		return nil, "", "", fmt.Errorf("uploading the package to s3://%s/%s: %w", bucket, key, classify(err))
	}
	h.staged.markDone(bucket + "/" + key)
	return nil, bucket, key, nil
}

// stagedPackages remembers the objects uploaded by this process, with a lock
// per object so that concurrent creates of functions sharing a package
// upload it once. A failed upload is not remembered: the next caller tries.
type stagedPackages struct {
	mu       sync.Mutex
	locks    map[string]*sync.Mutex
	uploaded map[string]bool
}

func (s *stagedPackages) lock(key string) (unlock func()) {
	s.mu.Lock()
	if s.locks == nil {
		s.locks, s.uploaded = map[string]*sync.Mutex{}, map[string]bool{}
	}
	l := s.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[key] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (s *stagedPackages) done(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploaded[key]
}

func (s *stagedPackages) markDone(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploaded[key] = true
}

func (*lambdaFunction) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_lambda_function",
		ForceNew: []string{"function_name"},
		Computed: []string{"arn", "invoke_arn"},
		// Where the package comes from never makes a change by itself:
		// code_sha256 compares its content with the deployed CodeSha256.
		// statement_ids (the Sids evdeploy writes to the resource policy)
		// only tells extra_statements apart.
		NoDiff: []string{"code_path", "s3_bucket", "s3_key", "statement_ids"},
	}
}

func isLambdaNotFound(err error) bool {
	var nf *lambdatypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// roleNotAssumable recognises Lambda's answer to a role IAM has not yet
// propagated. Lambda reports it as InvalidParameterValueException, the same
// code as real parameter errors; only the message tells them apart, so this
// is the one place that matches message text (code first, then the
// documented message prefix).
func roleNotAssumable(err error) bool {
	var ipv *lambdatypes.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		return false
	}
	return strings.HasPrefix(ipv.ErrorMessage(), "The role defined for the function cannot be assumed by Lambda")
}

// lambdaError classifies a Lambda write error.
func lambdaError(err error) error {
	if roleNotAssumable(err) {
		return propagating(err)
	}
	return classify(err)
}

// invokeARN is the URI API Gateway integrations invoke the function through.
func invokeARN(functionARN string) string {
	parts := strings.SplitN(functionARN, ":", 5) // arn:partition:lambda:region:...
	if len(parts) < 5 {
		return ""
	}
	return fmt.Sprintf("arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", parts[1], parts[3], functionARN)
}

// functionAttrs is what GetFunction reports, in attribute form.
func functionAttrs(out *lambda.GetFunctionOutput) planner.Attrs {
	c := out.Configuration
	arn := aws.ToString(c.FunctionArn)
	a := planner.Attrs{
		"function_name": aws.ToString(c.FunctionName),
		"role":          aws.ToString(c.Role),
		"handler":       aws.ToString(c.Handler),
		"code_sha256":   aws.ToString(c.CodeSha256),
		"arn":           arn,
		"invoke_arn":    invokeARN(arn),
	}
	if c.Runtime != "" {
		a["runtime"] = string(c.Runtime)
	}
	if c.MemorySize != nil {
		a["memory"] = int64(*c.MemorySize)
	}
	if c.Timeout != nil {
		a["timeout"] = int64(*c.Timeout)
	}
	if len(c.Architectures) > 0 {
		a["architecture"] = string(c.Architectures[0])
	}
	if c.Environment != nil {
		setMap(a, "environment", c.Environment.Variables)
	}
	setMap(a, "tags", out.Tags)
	// Settings an emulator does not report are left out (not drift).
	if c.TracingConfig != nil && c.TracingConfig.Mode != "" {
		a["tracing_mode"] = string(c.TracingConfig.Mode)
	}
	if c.EphemeralStorage != nil && c.EphemeralStorage.Size != nil {
		a["ephemeral_storage"] = int64(*c.EphemeralStorage.Size)
	}
	// Empty lists are left out like absent ones: a setting that is off
	// compares equal either way, and one removed while still deployed shows.
	var layers []string
	for _, l := range c.Layers {
		layers = append(layers, aws.ToString(l.Arn))
	}
	if len(layers) > 0 {
		a["layers"] = stringsAttr(layers)
	}
	if v := c.VpcConfig; v != nil && len(v.SubnetIds) > 0 {
		a["vpc_subnet_ids"] = stringsAttr(slices.Sorted(slices.Values(v.SubnetIds)))
		a["vpc_security_group_ids"] = stringsAttr(slices.Sorted(slices.Values(v.SecurityGroupIds)))
	}
	if out.Concurrency != nil && out.Concurrency.ReservedConcurrentExecutions != nil {
		a["reserved_concurrency"] = int64(*out.Concurrency.ReservedConcurrentExecutions)
	}
	return a
}

// settingsConfig fills the layers, tracing, ephemeral storage and VPC of a
// create or configuration update from desired; nil values leave Lambda's.
func settingsConfig(desired planner.Attrs) (layers []string, tracing *lambdatypes.TracingConfig, storage *lambdatypes.EphemeralStorage, vpc *lambdatypes.VpcConfig) {
	if desired.Has("layers") {
		layers = desired.Strings("layers")
		if layers == nil {
			layers = []string{}
		}
	}
	if m := desired.String("tracing_mode"); m != "" {
		tracing = &lambdatypes.TracingConfig{Mode: lambdatypes.TracingMode(m)}
	}
	if desired.Has("ephemeral_storage") {
		storage = &lambdatypes.EphemeralStorage{Size: aws.Int32(int32(desired.Int("ephemeral_storage")))}
	}
	if desired.Has("vpc_subnet_ids") {
		// Empty lists detach the function from its VPC.
		vpc = &lambdatypes.VpcConfig{SubnetIds: desired.Strings("vpc_subnet_ids"), SecurityGroupIds: desired.Strings("vpc_security_group_ids")}
		if vpc.SubnetIds == nil {
			vpc.SubnetIds = []string{}
		}
		if vpc.SecurityGroupIds == nil {
			vpc.SecurityGroupIds = []string{}
		}
	}
	return layers, tracing, storage, vpc
}

// setConcurrency reserves concurrency for the function, or removes the
// reservation when desired has none (nil).
func (h *lambdaFunction) setConcurrency(ctx context.Context, name string, desired planner.Attrs) error {
	if desired["reserved_concurrency"] == nil {
		_, err := h.api.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("function %s: removing reserved concurrency: %w", name, classify(err))
		}
		return nil
	}
	_, err := h.api.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
		FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(int32(desired.Int("reserved_concurrency"))),
	})
	if err != nil {
		return fmt.Errorf("function %s: reserving concurrency: %w", name, classify(err))
	}
	return nil
}

// withInputs adds the write-only inputs desired names to attrs: Create and
// Update return everything they know.
func withInputs(attrs, desired planner.Attrs, keys ...string) planner.Attrs {
	for _, k := range keys {
		if v, ok := desired[k]; ok {
			attrs[k] = v
		}
	}
	return attrs
}

// functionCode reads the package desired names: a local zip (code_path) or an
// object in an artifacts bucket (s3_bucket, s3_key).
func functionCode(desired planner.Attrs) (zip []byte, bucket, key string, err error) {
	if p := desired.String("code_path"); p != "" {
		zip, err = os.ReadFile(p)
		if err != nil {
			return nil, "", "", fmt.Errorf("reading the function package: %w", err)
		}
		return zip, "", "", nil
	}
	bucket, key = desired.String("s3_bucket"), desired.String("s3_key")
	if bucket == "" || key == "" {
		return nil, "", "", errors.New("no function package: need code_path, or s3_bucket and s3_key")
	}
	return nil, bucket, key, nil
}

// codeSHA256 is Lambda's CodeSha256 of a package: base64 of its SHA-256.
func codeSHA256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (h *lambdaFunction) get(ctx context.Context, name string) (*lambda.GetFunctionOutput, error) {
	out, err := h.api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if isLambdaNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

func (h *lambdaFunction) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.get(ctx, id)
	if err != nil || out == nil {
		return nil, false, err
	}
	a := functionAttrs(out)
	// The resource policy is the function's own surface (exclusive.go).
	if err := readExtraStatements(ctx, h.api, h.policies, id, prior, a); err != nil {
		return nil, false, err
	}
	return a, true, nil
}

func architectures(desired planner.Attrs) []lambdatypes.Architecture {
	if a := desired.String("architecture"); a != "" {
		return []lambdatypes.Architecture{lambdatypes.Architecture(a)}
	}
	return nil
}

func (h *lambdaFunction) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("function_name")
	h.policies.forget(name)
	role := desired.String("role")
	// A role that is not an ARN can never work: fail before calling AWS
	// (which answers ValidationException) with an error that says so.
	if !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":role/") {
		return "", nil, fmt.Errorf("function %s: role %q is not an IAM role ARN", name, role)
	}
	zip, bucket, key, err := h.packageCode(ctx, desired)
	if err != nil {
		return "", nil, fmt.Errorf("function %s: %w", name, err)
	}
	code := &lambdatypes.FunctionCode{ZipFile: zip}
	if zip == nil {
		code = &lambdatypes.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String(key)}
	}
	in := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String(role),
		Runtime:       lambdatypes.Runtime(desired.String("runtime")),
		Handler:       aws.String(desired.String("handler")),
		PackageType:   lambdatypes.PackageTypeZip,
		Architectures: architectures(desired),
		Code:          code,
	}
	if desired.Has("memory") {
		in.MemorySize = aws.Int32(int32(desired.Int("memory")))
	}
	if desired.Has("timeout") {
		in.Timeout = aws.Int32(int32(desired.Int("timeout")))
	}
	if env := desired.StringMap("environment"); len(env) > 0 {
		in.Environment = &lambdatypes.Environment{Variables: env}
	}
	if tags := desired.StringMap("tags"); len(tags) > 0 {
		in.Tags = tags
	}
	in.Layers, in.TracingConfig, in.EphemeralStorage, in.VpcConfig = settingsConfig(desired)
	if in.VpcConfig != nil && len(in.VpcConfig.SubnetIds) == 0 {
		in.VpcConfig = nil // not in a VPC: nothing to send
	}
	if len(in.Layers) == 0 {
		in.Layers = nil
	}
	created, err := h.api.CreateFunction(ctx, in)
	if err != nil {
		var conflict *lambdatypes.ResourceConflictException
		if errors.As(err, &conflict) {
			return "", nil, fmt.Errorf("function %s: %w", name, errors.Join(planner.ErrAlreadyExists, err))
		}
		return "", nil, lambdaError(err)
	}
	// A function that is Active at once (local engines) needs no waiter,
	// whose first poll comes only after its minimum delay.
	var out *lambda.GetFunctionOutput
	if created.State == lambdatypes.StateActive {
		out, err = h.get(ctx, name)
		if err != nil {
			return "", nil, err
		}
		if out == nil {
			return "", nil, fmt.Errorf("function %s: not found right after CreateFunction succeeded", name)
		}
	} else {
		out, err = lambda.NewFunctionActiveV2Waiter(h.api, func(o *lambda.FunctionActiveV2WaiterOptions) { o.MinDelay = h.waitMin }).
			WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, functionWait)
		if err != nil {
			return "", nil, fmt.Errorf("waiting up to %s for function %s to become Active: %w", functionWait, name, classify(err))
		}
	}
	if desired["reserved_concurrency"] != nil {
		// The function exists from here on: errors still return its id.
		if err := h.setConcurrency(ctx, name, desired); err != nil {
			return name, nil, err
		}
		if out, err = h.get(ctx, name); err != nil || out == nil {
			return name, nil, fmt.Errorf("function %s: reading it back: %w", name, err)
		}
	}
	a := functionAttrs(out)
	a["extra_statements"] = []any{} // a new function has no resource policy
	return name, withInputs(a, desired, "code_path", "s3_bucket", "s3_key", "statement_ids"), nil
}

// waitUpdated waits for the function's last update to finish (LastUpdateStatus
// Successful); Lambda rejects a second update while one is in progress.
func (h *lambdaFunction) waitUpdated(ctx context.Context, name, what string) error {
	err := lambda.NewFunctionUpdatedV2Waiter(h.api, func(o *lambda.FunctionUpdatedV2WaiterOptions) { o.MinDelay = h.waitMin }).
		Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, functionWait)
	if err != nil {
		return fmt.Errorf("waiting up to %s for the %s update of function %s to finish: %w", functionWait, what, name, classify(err))
	}
	return nil
}

func (h *lambdaFunction) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	h.policies.forget(id)
	// Compare with what is deployed (not the prior state) so a no-change
	// apply makes no write call and drift is repaired.
	cur, err := h.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("function %s does not exist", id)
	}
	have := functionAttrs(cur)

	wrote := false
	configChanged := false
	for _, k := range []string{"role", "runtime", "handler", "memory", "timeout", "environment"} {
		if desired.Has(k) && !planner.Equal(desired[k], have[k]) || !desired.Has(k) && k == "environment" && have.Has(k) {
			configChanged = true
		}
	}
	// Settings the service reports: compared only when it does (an emulator
	// that omits one would otherwise be written to on every update).
	for _, k := range []string{"tracing_mode", "ephemeral_storage"} {
		if desired.Has(k) && have.Has(k) && !planner.Equal(desired[k], have[k]) {
			configChanged = true
		}
	}
	// Lists read back only when non-empty.
	for _, k := range []string{"layers", "vpc_subnet_ids", "vpc_security_group_ids"} {
		if desired.Has(k) && !slices.Equal(desired.Strings(k), have.Strings(k)) {
			configChanged = true
		}
	}
	if configChanged {
		in := &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(id),
			Runtime:      lambdatypes.Runtime(desired.String("runtime")),
			// The environment is replaced whole; an empty map clears it.
			Environment: &lambdatypes.Environment{Variables: desired.StringMap("environment")},
		}
		if r := desired.String("role"); r != "" {
			in.Role = aws.String(r)
		}
		if hd := desired.String("handler"); hd != "" {
			in.Handler = aws.String(hd)
		}
		if in.Environment.Variables == nil {
			in.Environment.Variables = map[string]string{}
		}
		if desired.Has("memory") {
			in.MemorySize = aws.Int32(int32(desired.Int("memory")))
		}
		if desired.Has("timeout") {
			in.Timeout = aws.Int32(int32(desired.Int("timeout")))
		}
		in.Layers, in.TracingConfig, in.EphemeralStorage, in.VpcConfig = settingsConfig(desired)
		updated, err := h.api.UpdateFunctionConfiguration(ctx, in)
		if err != nil {
			return nil, lambdaError(err)
		}
		wrote = true
		if updated.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
			if err := h.waitUpdated(ctx, id, "configuration"); err != nil {
				return nil, err
			}
		}
	}

	// Code (and architecture, which Lambda changes with the code) only when
	// the package differs from the deployed one.
	zip, bucket, key, codeErr := functionCode(desired)
	wantSHA := desired.String("code_sha256")
	if wantSHA == "" && zip != nil {
		wantSHA = codeSHA256(zip)
	}
	archChanged := desired.Has("architecture") && desired.String("architecture") != have.String("architecture")
	if archChanged || wantSHA != "" && wantSHA != have.String("code_sha256") {
		if codeErr != nil {
			return nil, fmt.Errorf("function %s: %w", id, codeErr)
		}
		if zip, bucket, key, codeErr = h.packageCode(ctx, desired); codeErr != nil {
			return nil, fmt.Errorf("function %s: %w", id, codeErr)
		}
		in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(id), Architectures: architectures(desired)}
		if zip != nil {
			in.ZipFile = zip
		} else {
			in.S3Bucket, in.S3Key = aws.String(bucket), aws.String(key)
		}
		updated, err := h.api.UpdateFunctionCode(ctx, in)
		if err != nil {
			return nil, lambdaError(err)
		}
		wrote = true
		if updated.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
			if err := h.waitUpdated(ctx, id, "code"); err != nil {
				return nil, err
			}
		}
	}

	if desired.Has("reserved_concurrency") && !planner.Equal(desired["reserved_concurrency"], have["reserved_concurrency"]) {
		if err := h.setConcurrency(ctx, id, desired); err != nil {
			return nil, err
		}
		wrote = true
	}

	set, remove := tagDiff(cur.Tags, desired.StringMap("tags"))
	wrote = wrote || len(set) > 0 || len(remove) > 0
	arn := cur.Configuration.FunctionArn
	if len(set) > 0 {
		if _, err := h.api.TagResource(ctx, &lambda.TagResourceInput{Resource: arn, Tags: set}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.UntagResource(ctx, &lambda.UntagResourceInput{Resource: arn, TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}

	// Statements evdeploy does not write leave the resource policy.
	extra, err := removeExtraStatements(ctx, h.api, id, desired)
	if err != nil {
		return nil, err
	}
	if !wrote {
		have["extra_statements"] = extra
		return withInputs(have, desired, "code_path", "s3_bucket", "s3_key", "statement_ids"), nil
	}
	out, err := h.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("function %s disappeared during update", id)
	}
	a := functionAttrs(out)
	a["extra_statements"] = extra
	return withInputs(a, desired, "code_path", "s3_bucket", "s3_key", "statement_ids"), nil
}

func (h *lambdaFunction) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	h.policies.forget(id)
	_, err := h.api.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(id)})
	if err != nil && !isLambdaNotFound(err) {
		return classify(err)
	}
	return nil
}
