package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// eventSourceMappingAPI is the part of the Lambda API the mapping handler uses.
type eventSourceMappingAPI interface {
	lambda.ListEventSourceMappingsAPIClient
	CreateEventSourceMapping(context.Context, *lambda.CreateEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.CreateEventSourceMappingOutput, error)
	GetEventSourceMapping(context.Context, *lambda.GetEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error)
	UpdateEventSourceMapping(context.Context, *lambda.UpdateEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.UpdateEventSourceMappingOutput, error)
	DeleteEventSourceMapping(context.Context, *lambda.DeleteEventSourceMappingInput, ...func(*lambda.Options)) (*lambda.DeleteEventSourceMappingOutput, error)
}

// mappingWait bounds the waits for a mapping to settle (Creating, Updating,
// Enabling → Enabled/Disabled) and to disappear after Delete.
const mappingWait = 5 * time.Minute

// eventSourceMapping manages aws_lambda_event_source_mapping; its physical id
// is the mapping's UUID, which only the service knows, hence Find.
type eventSourceMapping struct {
	api      eventSourceMappingAPI
	interval time.Duration // state polling interval
}

var _ planner.Finder = (*eventSourceMapping)(nil)

func newEventSourceMapping(c *clients) *eventSourceMapping {
	return &eventSourceMapping{api: c.lambda, interval: 2 * time.Second}
}

func (*eventSourceMapping) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_lambda_event_source_mapping",
		ForceNew: []string{"function_name", "event_source_arn", "starting_position"},
		Computed: []string{"uuid"},
	}
}

// roleCannotReadSource recognises Lambda's answer when the function's role
// cannot yet read the source ("The provided execution role does not have
// permissions to call ReceiveMessage on SQS" / GetRecords / DescribeStream
// ...): usually IAM propagation of a policy just written. Lambda uses
// InvalidParameterValueException for it as for every bad parameter, so only
// the message prefix tells them apart; this is the one place that reads it.
func roleCannotReadSource(err error) bool {
	var ipv *lambdatypes.InvalidParameterValueException
	return errors.As(err, &ipv) &&
		strings.HasPrefix(ipv.ErrorMessage(), "The provided execution role does not have permissions to call")
}

func mappingError(err error) error {
	if roleCannotReadSource(err) || roleNotAssumable(err) {
		return propagating(err)
	}
	return classify(err)
}

// mappingAttrs is what the service reports about a mapping. Fields it leaves
// out are left out here too (never zeroed). function_name keeps the form the
// caller uses (a name, or an ARN when prior holds one).
func mappingAttrs(m *lambdatypes.EventSourceMappingConfiguration, prior planner.Attrs) planner.Attrs {
	fn := aws.ToString(m.FunctionArn)
	if !strings.HasPrefix(prior.String("function_name"), "arn:") {
		fn = fn[strings.LastIndex(fn, ":function:")+len(":function:"):]
		if i := strings.Index(fn, ":"); i >= 0 && !strings.Contains(prior.String("function_name"), ":") {
			fn = fn[:i] // a qualifier the caller does not use (name:alias keeps it)
		}
	}
	a := planner.Attrs{
		"function_name":    fn,
		"event_source_arn": aws.ToString(m.EventSourceArn),
		"uuid":             aws.ToString(m.UUID),
	}
	if m.StartingPosition != "" {
		a["starting_position"] = string(m.StartingPosition)
	}
	if m.BatchSize != nil {
		a["batch_size"] = int64(*m.BatchSize)
	}
	if m.MaximumBatchingWindowInSeconds != nil {
		a["maximum_batching_window"] = int64(*m.MaximumBatchingWindowInSeconds)
	}
	if m.MaximumRetryAttempts != nil {
		a["maximum_retry_attempts"] = int64(*m.MaximumRetryAttempts)
	}
	if m.BisectBatchOnFunctionError != nil {
		a["bisect_batch_on_function_error"] = *m.BisectBatchOnFunctionError
	}
	if m.ParallelizationFactor != nil {
		a["parallelization_factor"] = int64(*m.ParallelizationFactor)
	}
	if len(m.FunctionResponseTypes) > 0 {
		a["function_response_types"] = stringsAttr(m.FunctionResponseTypes)
	}
	if m.ScalingConfig != nil && m.ScalingConfig.MaximumConcurrency != nil {
		a["maximum_concurrency"] = int64(*m.ScalingConfig.MaximumConcurrency)
	}
	switch aws.ToString(m.State) {
	case "Enabled", "Enabling":
		a["enabled"] = true
	case "Disabled", "Disabling":
		a["enabled"] = false
	}
	return a
}

// fromGet views GetEventSourceMapping's output as a mapping configuration.
func fromGet(o *lambda.GetEventSourceMappingOutput) *lambdatypes.EventSourceMappingConfiguration {
	return &lambdatypes.EventSourceMappingConfiguration{
		UUID: o.UUID, FunctionArn: o.FunctionArn, EventSourceArn: o.EventSourceArn, State: o.State,
		StartingPosition: o.StartingPosition, BatchSize: o.BatchSize,
		MaximumBatchingWindowInSeconds: o.MaximumBatchingWindowInSeconds,
		MaximumRetryAttempts:           o.MaximumRetryAttempts, BisectBatchOnFunctionError: o.BisectBatchOnFunctionError,
		ParallelizationFactor: o.ParallelizationFactor, FunctionResponseTypes: o.FunctionResponseTypes,
		ScalingConfig: o.ScalingConfig,
	}
}

// get returns the mapping, nil when it does not exist.
func (h *eventSourceMapping) get(ctx context.Context, id string) (*lambdatypes.EventSourceMappingConfiguration, error) {
	out, err := h.api.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(id)})
	if isLambdaNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return fromGet(out), nil
}

func (h *eventSourceMapping) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	m, err := h.get(ctx, id)
	if err != nil || m == nil {
		return nil, false, err
	}
	// A mapping being deleted is as good as gone: its replacement may be
	// created once it disappears.
	if aws.ToString(m.State) == "Deleting" {
		return nil, false, nil
	}
	return mappingAttrs(m, prior), true, nil
}

// Find looks up the mapping from the desired source to the desired function.
func (h *eventSourceMapping) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	p := lambda.NewListEventSourceMappingsPaginator(h.api, &lambda.ListEventSourceMappingsInput{
		FunctionName:   aws.String(desired.String("function_name")),
		EventSourceArn: aws.String(desired.String("event_source_arn")),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isLambdaNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for i := range page.EventSourceMappings {
			m := &page.EventSourceMappings[i]
			if aws.ToString(m.State) == "Deleting" || aws.ToString(m.EventSourceArn) != desired.String("event_source_arn") {
				continue
			}
			return aws.ToString(m.UUID), mappingAttrs(m, desired), true, nil
		}
	}
	return "", nil, false, nil
}

// settle waits until the mapping is Enabled or Disabled.
func (h *eventSourceMapping) settle(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, error) {
	var last *lambdatypes.EventSourceMappingConfiguration
	err := waitFor(ctx, "event source mapping "+id+" to become Enabled or Disabled", h.interval, mappingWait,
		func(ctx context.Context) (bool, error) {
			m, err := h.get(ctx, id)
			if err != nil {
				return false, err
			}
			if m == nil {
				return false, fmt.Errorf("event source mapping %s disappeared", id)
			}
			last = m
			s := aws.ToString(m.State)
			return s == "Enabled" || s == "Disabled", nil
		})
	if err != nil {
		return nil, err
	}
	return mappingAttrs(last, prior), nil
}

// known merges what the service reports over what was asked for: Create and
// Update return every attribute they know, and the service may omit some.
func known(desired, reported planner.Attrs) planner.Attrs {
	out := desired.Norm()
	for k, v := range reported {
		out[k] = v
	}
	return out
}

func int32Attr(a planner.Attrs, k string) *int32 {
	if !a.Has(k) {
		return nil
	}
	return aws.Int32(int32(a.Int(k)))
}

func boolAttr(a planner.Attrs, k string) *bool {
	if !a.Has(k) {
		return nil
	}
	return aws.Bool(a.Bool(k))
}

func responseTypes(a planner.Attrs) []lambdatypes.FunctionResponseType {
	var out []lambdatypes.FunctionResponseType
	for _, s := range a.Strings("function_response_types") {
		out = append(out, lambdatypes.FunctionResponseType(s))
	}
	return out
}

func scaling(a planner.Attrs) *lambdatypes.ScalingConfig {
	if !a.Has("maximum_concurrency") {
		return nil
	}
	return &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(int32(a.Int("maximum_concurrency")))}
}

func (h *eventSourceMapping) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	source := desired.String("event_source_arn")
	if !strings.HasPrefix(source, "arn:") {
		return "", nil, fmt.Errorf("event source %q is not an ARN", source)
	}
	// AWS refuses a second mapping of the same source to the same function
	// (kumo does not): look first, and never adopt one silently.
	if id, _, found, err := h.Find(ctx, desired); err != nil {
		return "", nil, err
	} else if found {
		return "", nil, fmt.Errorf("event source mapping %s from %s: %w", id, source, planner.ErrAlreadyExists)
	}
	in := &lambda.CreateEventSourceMappingInput{
		FunctionName:                   aws.String(desired.String("function_name")),
		EventSourceArn:                 aws.String(source),
		BatchSize:                      int32Attr(desired, "batch_size"),
		MaximumBatchingWindowInSeconds: int32Attr(desired, "maximum_batching_window"),
		MaximumRetryAttempts:           int32Attr(desired, "maximum_retry_attempts"),
		BisectBatchOnFunctionError:     boolAttr(desired, "bisect_batch_on_function_error"),
		ParallelizationFactor:          int32Attr(desired, "parallelization_factor"),
		FunctionResponseTypes:          responseTypes(desired),
		ScalingConfig:                  scaling(desired),
		Enabled:                        boolAttr(desired, "enabled"),
	}
	if sp := desired.String("starting_position"); sp != "" { // Kinesis and DynamoDB streams only
		in.StartingPosition = lambdatypes.EventSourcePosition(sp)
	}
	id, _, err := createOnce(ctx, func(ctx context.Context) (string, planner.Attrs, error) {
		out, err := h.api.CreateEventSourceMapping(ctx, in, noSDKRetriesLambda)
		if err != nil {
			var conflict *lambdatypes.ResourceConflictException
			if errors.As(err, &conflict) {
				if id, _, found, ferr := h.Find(ctx, desired); ferr == nil && found {
					return "", nil, fmt.Errorf("event source mapping %s from %s: %w", id, source, errors.Join(planner.ErrAlreadyExists, err))
				}
			}
			if sdkRetryable.IsErrorRetryable(err) == aws.TrueTernary {
				return "", nil, err
			}
			return "", nil, mappingError(err)
		}
		return aws.ToString(out.UUID), nil, nil
	}, func(ctx context.Context) (string, planner.Attrs, bool, error) { return h.Find(ctx, desired) })
	if err != nil {
		return "", nil, err
	}
	actual, err := h.settle(ctx, id, desired)
	if err != nil {
		return id, nil, err
	}
	return id, known(desired, actual), nil
}

func (h *eventSourceMapping) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	in := &lambda.UpdateEventSourceMappingInput{
		UUID:                           aws.String(id),
		BatchSize:                      int32Attr(desired, "batch_size"),
		MaximumBatchingWindowInSeconds: int32Attr(desired, "maximum_batching_window"),
		MaximumRetryAttempts:           int32Attr(desired, "maximum_retry_attempts"),
		BisectBatchOnFunctionError:     boolAttr(desired, "bisect_batch_on_function_error"),
		ParallelizationFactor:          int32Attr(desired, "parallelization_factor"),
		ScalingConfig:                  scaling(desired),
		Enabled:                        boolAttr(desired, "enabled"),
	}
	// An empty list (not an absent one) clears the response types.
	if desired.Has("function_response_types") || prior.Has("function_response_types") {
		in.FunctionResponseTypes = append([]lambdatypes.FunctionResponseType{}, responseTypes(desired)...)
	}
	if _, err := h.api.UpdateEventSourceMapping(ctx, in); err != nil {
		return nil, mappingError(err)
	}
	actual, err := h.settle(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	return known(desired, actual), nil
}

func (h *eventSourceMapping) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(id)})
	if isLambdaNotFound(err) {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	// Wait until it is gone: a replacement mapping of the same source and
	// function is refused while this one is still Deleting.
	return waitFor(ctx, "event source mapping "+id+" to be deleted", h.interval, mappingWait,
		func(ctx context.Context) (bool, error) {
			m, err := h.get(ctx, id)
			return m == nil, err
		})
}
