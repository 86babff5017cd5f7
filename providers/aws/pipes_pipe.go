package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	pipestypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/evdeploy/evdeploy/planner"
)

// pipesAPI is the part of the EventBridge Pipes API the pipe handler uses.
type pipesAPI interface {
	CreatePipe(context.Context, *pipes.CreatePipeInput, ...func(*pipes.Options)) (*pipes.CreatePipeOutput, error)
	DescribePipe(context.Context, *pipes.DescribePipeInput, ...func(*pipes.Options)) (*pipes.DescribePipeOutput, error)
	UpdatePipe(context.Context, *pipes.UpdatePipeInput, ...func(*pipes.Options)) (*pipes.UpdatePipeOutput, error)
	DeletePipe(context.Context, *pipes.DeletePipeInput, ...func(*pipes.Options)) (*pipes.DeletePipeOutput, error)
}

// pipesPipe manages aws_pipes_pipe, id = the pipe's name: an EventBridge pipe
// from an SQS queue, a Kinesis stream or a DynamoDB stream to a queue, topic,
// bus or stream, with an optional filter. The source and its starting
// position cannot change in place.
type pipesPipe struct{ api pipesAPI }

func newPipesPipe(c *clients) *pipesPipe { return &pipesPipe{api: c.pipes} }

func (*pipesPipe) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_pipes_pipe",
		ForceNew: []string{"name", "source", "starting_position"},
		Computed: []string{"arn"},
	}
}

// isPipeNotFound matches a missing pipe: NotFoundException on AWS and moto;
// kumo answers 404 with no error code the SDK recognises.
func isPipeNotFound(err error) bool {
	var nf *pipestypes.NotFoundException
	if errors.As(err, &nf) || hasCode(err, "NotFoundException", "ResourceNotFoundException") {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// arnService is an ARN's service ("sqs", "kinesis", "dynamodb").
func arnService(arn string) string {
	if parts := strings.SplitN(arn, ":", 4); len(parts) == 4 {
		return parts[2]
	}
	return ""
}

func (h *pipesPipe) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribePipe(ctx, &pipes.DescribePipeInput{Name: aws.String(id)})
	if isPipeNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	if out.CurrentState == pipestypes.PipeStateDeleting {
		return nil, false, nil
	}
	a := planner.Attrs{
		"name":     id,
		"arn":      aws.ToString(out.Arn),
		"role_arn": aws.ToString(out.RoleArn),
		"source":   aws.ToString(out.Source),
		"target":   aws.ToString(out.Target),
	}
	if s := string(out.DesiredState); s != "" {
		a["desired_state"] = s
	}
	if sp := out.SourceParameters; sp != nil {
		switch {
		case sp.SqsQueueParameters != nil && sp.SqsQueueParameters.BatchSize != nil:
			a["batch_size"] = int64(*sp.SqsQueueParameters.BatchSize)
		case sp.KinesisStreamParameters != nil:
			if p := sp.KinesisStreamParameters; p.BatchSize != nil {
				a["batch_size"] = int64(*p.BatchSize)
			}
			if p := sp.KinesisStreamParameters; p.StartingPosition != "" {
				a["starting_position"] = string(p.StartingPosition)
			}
		case sp.DynamoDBStreamParameters != nil:
			if p := sp.DynamoDBStreamParameters; p.BatchSize != nil {
				a["batch_size"] = int64(*p.BatchSize)
			}
			if p := sp.DynamoDBStreamParameters; p.StartingPosition != "" {
				a["starting_position"] = string(p.StartingPosition)
			}
		}
		if fc := sp.FilterCriteria; fc != nil && len(fc.Filters) > 0 {
			a["filter"] = mustCanonicalJSON(aws.ToString(fc.Filters[0].Pattern))
		}
	}
	if tp := out.TargetParameters; tp != nil {
		if p := tp.SqsQueueParameters; p != nil && aws.ToString(p.MessageGroupId) != "" {
			a["sqs_message_group_id"] = aws.ToString(p.MessageGroupId)
		}
		if p := tp.KinesisStreamParameters; p != nil && aws.ToString(p.PartitionKey) != "" {
			a["kinesis_partition_key"] = aws.ToString(p.PartitionKey)
		}
	}
	if len(out.Tags) > 0 {
		a["tags"] = stringMapAttr(out.Tags)
	}
	return a, true, nil
}

// filterCriteria is the pipe's filter, nil when there is none.
func filterCriteria(desired planner.Attrs) (*pipestypes.FilterCriteria, error) {
	f := desired.String("filter")
	if f == "" {
		return nil, nil
	}
	c, err := canonicalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return &pipestypes.FilterCriteria{Filters: []pipestypes.Filter{{Pattern: aws.String(c)}}}, nil
}

func targetParameters(desired planner.Attrs) *pipestypes.PipeTargetParameters {
	tp := &pipestypes.PipeTargetParameters{}
	if g := desired.String("sqs_message_group_id"); g != "" {
		tp.SqsQueueParameters = &pipestypes.PipeTargetSqsQueueParameters{MessageGroupId: aws.String(g)}
	}
	if k := desired.String("kinesis_partition_key"); k != "" {
		tp.KinesisStreamParameters = &pipestypes.PipeTargetKinesisStreamParameters{PartitionKey: aws.String(k)}
	}
	return tp
}

// waitSettled waits until the pipe has left CREATING/UPDATING (or is gone
// when gone is set): Pipes applies changes asynchronously.
func (h *pipesPipe) waitSettled(ctx context.Context, name string, gone bool) error {
	return waitFor(ctx, "pipe "+name, time.Second, 5*time.Minute, func(ctx context.Context) (bool, error) {
		out, err := h.api.DescribePipe(ctx, &pipes.DescribePipeInput{Name: aws.String(name)})
		if isPipeNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, classify(err)
		}
		switch out.CurrentState {
		case pipestypes.PipeStateCreateFailed, pipestypes.PipeStateUpdateFailed, pipestypes.PipeStateStartFailed:
			return false, fmt.Errorf("pipe %s is %s: %s", name, out.CurrentState, aws.ToString(out.StateReason))
		case pipestypes.PipeStateCreating, pipestypes.PipeStateUpdating, pipestypes.PipeStateStarting, pipestypes.PipeStateStopping:
			return false, nil
		case pipestypes.PipeStateDeleting:
			return !gone, nil
		}
		return !gone, nil
	})
}

func (h *pipesPipe) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name, source := desired.String("name"), desired.String("source")
	for _, k := range []string{"role_arn", "source", "target"} {
		if err := checkARN(k, desired.String(k)); err != nil {
			return "", nil, err
		}
	}
	// CreatePipe fails on an existing name (ConflictException); look first so
	// the answer is ErrAlreadyExists, as for every type.
	if _, exists, err := h.Read(ctx, name, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("pipe %s: %w", name, planner.ErrAlreadyExists)
	}
	fc, err := filterCriteria(desired)
	if err != nil {
		return "", nil, err
	}
	sp := &pipestypes.PipeSourceParameters{FilterCriteria: fc}
	batch := aws.Int32(int32(desired.Int("batch_size")))
	switch arnService(source) {
	case "sqs":
		sp.SqsQueueParameters = &pipestypes.PipeSourceSqsQueueParameters{BatchSize: batch}
	case "kinesis":
		sp.KinesisStreamParameters = &pipestypes.PipeSourceKinesisStreamParameters{
			BatchSize: batch, StartingPosition: pipestypes.KinesisStreamStartPosition(desired.String("starting_position"))}
	case "dynamodb":
		sp.DynamoDBStreamParameters = &pipestypes.PipeSourceDynamoDBStreamParameters{
			BatchSize: batch, StartingPosition: pipestypes.DynamoDBStreamStartPosition(desired.String("starting_position"))}
	default:
		return "", nil, fmt.Errorf("source %q: a pipe reads an SQS queue, a Kinesis stream or a DynamoDB stream", source)
	}
	_, err = h.api.CreatePipe(ctx, &pipes.CreatePipeInput{
		Name:             aws.String(name),
		RoleArn:          aws.String(desired.String("role_arn")),
		Source:           aws.String(source),
		Target:           aws.String(desired.String("target")),
		DesiredState:     pipestypes.RequestedPipeState(desired.String("desired_state")),
		SourceParameters: sp,
		TargetParameters: targetParameters(desired),
		Tags:             desired.StringMap("tags"),
	})
	if err != nil {
		return "", nil, pipeError(err)
	}
	if err := h.waitSettled(ctx, name, false); err != nil {
		return "", nil, err
	}
	actual, exists, err := h.Read(ctx, name, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("pipe %s not found right after creating it", name)
	}
	return name, actual, nil
}

// pipeError classifies a Pipes write error: a role that cannot yet be
// assumed or read the source is IAM propagation.
func pipeError(err error) error {
	var ve *pipestypes.ValidationException
	if errors.As(err, &ve) && strings.Contains(strings.ToLower(ve.ErrorMessage()), "role") {
		return propagating(err)
	}
	return classify(err)
}

func (h *pipesPipe) Update(ctx context.Context, id string, _, desired planner.Attrs) (planner.Attrs, error) {
	fc, err := filterCriteria(desired)
	if err != nil {
		return nil, err
	}
	if fc == nil {
		// An empty filter list removes the filter.
		fc = &pipestypes.FilterCriteria{Filters: []pipestypes.Filter{}}
	}
	sp := &pipestypes.UpdatePipeSourceParameters{FilterCriteria: fc}
	batch := aws.Int32(int32(desired.Int("batch_size")))
	switch arnService(desired.String("source")) {
	case "sqs":
		sp.SqsQueueParameters = &pipestypes.UpdatePipeSourceSqsQueueParameters{BatchSize: batch}
	case "kinesis":
		sp.KinesisStreamParameters = &pipestypes.UpdatePipeSourceKinesisStreamParameters{BatchSize: batch}
	case "dynamodb":
		sp.DynamoDBStreamParameters = &pipestypes.UpdatePipeSourceDynamoDBStreamParameters{BatchSize: batch}
	}
	if _, err := h.api.UpdatePipe(ctx, &pipes.UpdatePipeInput{
		Name:             aws.String(id),
		RoleArn:          aws.String(desired.String("role_arn")),
		Target:           aws.String(desired.String("target")),
		DesiredState:     pipestypes.RequestedPipeState(desired.String("desired_state")),
		SourceParameters: sp,
		TargetParameters: targetParameters(desired),
	}); err != nil {
		return nil, pipeError(err)
	}
	if err := h.waitSettled(ctx, id, false); err != nil {
		return nil, err
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("pipe %s disappeared during update", id)
	}
	return actual, nil
}

func (h *pipesPipe) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeletePipe(ctx, &pipes.DeletePipeInput{Name: aws.String(id)})
	if isPipeNotFound(err) {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	// Deletion is asynchronous; the role it uses must outlive it.
	return h.waitSettled(ctx, id, true)
}
