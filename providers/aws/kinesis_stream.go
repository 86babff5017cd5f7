package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/evdeploy/evdeploy/planner"
)

// kinesisStreamAPI is the part of the Kinesis API the stream handler uses.
type kinesisStreamAPI interface {
	CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DescribeStream(context.Context, *kinesis.DescribeStreamInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	DeleteStream(context.Context, *kinesis.DeleteStreamInput, ...func(*kinesis.Options)) (*kinesis.DeleteStreamOutput, error)
	UpdateStreamMode(context.Context, *kinesis.UpdateStreamModeInput, ...func(*kinesis.Options)) (*kinesis.UpdateStreamModeOutput, error)
	UpdateShardCount(context.Context, *kinesis.UpdateShardCountInput, ...func(*kinesis.Options)) (*kinesis.UpdateShardCountOutput, error)
	IncreaseStreamRetentionPeriod(context.Context, *kinesis.IncreaseStreamRetentionPeriodInput, ...func(*kinesis.Options)) (*kinesis.IncreaseStreamRetentionPeriodOutput, error)
	DecreaseStreamRetentionPeriod(context.Context, *kinesis.DecreaseStreamRetentionPeriodInput, ...func(*kinesis.Options)) (*kinesis.DecreaseStreamRetentionPeriodOutput, error)
	ListTagsForStream(context.Context, *kinesis.ListTagsForStreamInput, ...func(*kinesis.Options)) (*kinesis.ListTagsForStreamOutput, error)
	AddTagsToStream(context.Context, *kinesis.AddTagsToStreamInput, ...func(*kinesis.Options)) (*kinesis.AddTagsToStreamOutput, error)
	RemoveTagsFromStream(context.Context, *kinesis.RemoveTagsFromStreamInput, ...func(*kinesis.Options)) (*kinesis.RemoveTagsFromStreamOutput, error)
}

// kinesisStream manages aws_kinesis_stream, id = stream name.
type kinesisStream struct {
	api  kinesisStreamAPI
	wait time.Duration // bounds each wait for ACTIVE or for deletion
}

func newKinesisStream(c *clients) planner.Handler {
	return &kinesisStream{api: c.kin, wait: 10 * time.Minute}
}

func (h *kinesisStream) Schema() planner.Schema {
	return planner.Schema{
		Type:      "aws_kinesis_stream",
		ForceNew:  []string{"name"},
		Computed:  []string{"arn"},
		HoldsData: true,
		// Some endpoints (kumo) drop the tags passed with CreateStream and
		// cannot list them: only the journal can vouch for such a stream.
		TagsAfterCreate: true,
	}
}

// defaultRetentionHours is what CreateStream gives every stream.
const defaultRetentionHours = 24

// unsupportedOperation reports an endpoint that does not implement the call
// (AWS always does; kumo answers InvalidAction for Kinesis tagging).
func unsupportedOperation(err error) bool {
	return hasCode(err, "InvalidAction", "UnknownOperationException", "UnsupportedOperation")
}

func (h *kinesisStream) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	s := out.StreamDescriptionSummary
	if s.StreamStatus == kintypes.StreamStatusDeleting {
		return nil, false, nil
	}
	mode := kintypes.StreamModeProvisioned
	if s.StreamModeDetails != nil && s.StreamModeDetails.StreamMode != "" {
		mode = s.StreamModeDetails.StreamMode
	}
	attrs := planner.Attrs{
		"name":            aws.ToString(s.StreamName),
		"arn":             aws.ToString(s.StreamARN),
		"stream_mode":     string(mode),
		"retention_hours": int64(aws.ToInt32(s.RetentionPeriodHours)),
	}
	if mode == kintypes.StreamModeProvisioned && s.OpenShardCount != nil {
		attrs["shard_count"] = int64(*s.OpenShardCount)
	}
	tags, err := h.tags(ctx, id)
	switch {
	case hasCode(err, "ResourceNotFoundException"):
		return nil, false, nil
	case unsupportedOperation(err):
		// The endpoint cannot list tags: they are not reported (left out, so
		// the planner keeps the applied ones) rather than failing every read.
	case err != nil:
		return nil, false, err
	default:
		setMap(attrs, "tags", tags)
	}
	return attrs, true, nil
}

func (h *kinesisStream) tags(ctx context.Context, name string) (map[string]string, error) {
	tags := map[string]string{}
	var start *string
	for {
		out, err := h.api.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name), ExclusiveStartTagKey: start})
		if err != nil {
			return nil, classify(err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			start = t.Key
		}
		if !aws.ToBool(out.HasMoreTags) || len(out.Tags) == 0 {
			return tags, nil
		}
	}
}

func kinesisStreamMode(desired planner.Attrs) (kintypes.StreamMode, error) {
	switch m := kintypes.StreamMode(desired.String("stream_mode")); m {
	case "", kintypes.StreamModeProvisioned:
		if desired.Int("shard_count") < 1 {
			return "", fmt.Errorf("stream_mode PROVISIONED needs shard_count of at least 1")
		}
		return kintypes.StreamModeProvisioned, nil
	case kintypes.StreamModeOnDemand:
		return m, nil
	default:
		return "", fmt.Errorf("stream_mode %q: want PROVISIONED or ON_DEMAND", m)
	}
}

func (h *kinesisStream) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	mode, err := kinesisStreamMode(desired)
	if err != nil {
		return "", nil, err
	}
	in := &kinesis.CreateStreamInput{
		StreamName:        aws.String(name),
		StreamModeDetails: &kintypes.StreamModeDetails{StreamMode: mode},
		// Tags at creation: one call, and the only way to tag on endpoints
		// without AddTagsToStream.
		Tags: desired.StringMap("tags"),
	}
	if mode == kintypes.StreamModeProvisioned {
		in.ShardCount = aws.Int32(int32(desired.Int("shard_count")))
	}
	// A stream that is there before the create is a collision. Where tags
	// cannot be read, the SDK's retry of CreateStream (its first answer lost)
	// cannot be told from someone else's stream by its tags: looking first
	// tells them apart.
	_, err = h.api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err == nil {
		return "", nil, fmt.Errorf("stream %q: %w", name, planner.ErrAlreadyExists)
	}
	if !hasCode(err, "ResourceNotFoundException") {
		return "", nil, classify(err)
	}
	id, actual, err := h.create(ctx, name, desired, in)
	if err != nil {
		// The name was free: the stream may be this call's (ErrCreateSent).
		err = fmt.Errorf("stream %q: %w", name, errors.Join(planner.ErrCreateSent, err))
	}
	return id, actual, err
}

// create makes the stream Create found absent and waits for it.
func (h *kinesisStream) create(ctx context.Context, name string, desired planner.Attrs, in *kinesis.CreateStreamInput) (string, planner.Attrs, error) {
	if _, err := h.api.CreateStream(ctx, in); err != nil && !hasCode(err, "ResourceInUseException") {
		// ResourceInUseException, absent a moment ago, is the stream the
		// lost attempt made.
		return "", nil, classify(err)
	}
	// The stream exists from here on: errors still return its id.
	if err := h.waitActive(ctx, name); err != nil {
		return name, nil, err
	}
	if r := desired.Int("retention_hours"); r != 0 && r != defaultRetentionHours {
		if err := h.setRetention(ctx, name, defaultRetentionHours, r); err != nil {
			return name, nil, err
		}
	}
	actual, ok, err := h.Read(ctx, name, nil)
	if err != nil {
		return name, nil, err
	}
	if !ok {
		return name, nil, fmt.Errorf("stream %q disappeared right after it was created", name)
	}
	if !actual.Has("tags") {
		setMap(actual, "tags", desired.StringMap("tags")) // sent with CreateStream
	}
	return name, actual, nil
}

func (h *kinesisStream) waitActive(ctx context.Context, name string) error {
	w := kinesis.NewStreamExistsWaiter(h.api, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 20*time.Second
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name), Limit: aws.Int32(1)}, h.wait); err != nil {
		return fmt.Errorf("waiting for stream %s to become ACTIVE: %w", name, classify(err))
	}
	return nil
}

func (h *kinesisStream) setRetention(ctx context.Context, name string, from, to int64) error {
	var err error
	if to > from {
		_, err = h.api.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{
			StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(int32(to)),
		})
	} else {
		_, err = h.api.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{
			StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(int32(to)),
		})
	}
	if err != nil {
		return fmt.Errorf("setting retention to %d hours: %w", to, classify(err))
	}
	return h.waitActive(ctx, name)
}

// Update applies mode, shard count, retention and tag changes, one call each
// (Kinesis takes one change at a time and only on an ACTIVE stream).
func (h *kinesisStream) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	mode, err := kinesisStreamMode(desired)
	if err != nil {
		return nil, err
	}
	arn, err := priorARN(ctx, h, id, prior, "stream")
	if err != nil {
		return nil, err
	}
	if prior.String("stream_mode") != string(mode) {
		if _, err := h.api.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{
			StreamARN: aws.String(arn), StreamModeDetails: &kintypes.StreamModeDetails{StreamMode: mode},
		}); err != nil {
			return nil, fmt.Errorf("changing stream mode to %s: %w", mode, classify(err))
		}
		if err := h.waitActive(ctx, id); err != nil {
			return nil, err
		}
	}
	if mode == kintypes.StreamModeProvisioned {
		// After a switch from on demand the shard count is whatever Kinesis
		// chose: compare with what the stream has now, not with prior.
		cur, ok, err := h.Read(ctx, id, prior)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("stream %q no longer exists", id)
		}
		if n := desired.Int("shard_count"); cur.Int("shard_count") != n {
			if _, err := h.api.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{
				StreamName: aws.String(id), TargetShardCount: aws.Int32(int32(n)), ScalingType: kintypes.ScalingTypeUniformScaling,
			}); err != nil {
				return nil, fmt.Errorf("resharding to %d shards: %w", n, classify(err))
			}
			if err := h.waitActive(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	from, to := prior.Int("retention_hours"), desired.Int("retention_hours")
	if to == 0 {
		to = defaultRetentionHours
	}
	if from != to {
		if from == 0 {
			from = defaultRetentionHours
		}
		if err := h.setRetention(ctx, id, from, to); err != nil {
			return nil, err
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(remove) > 0 {
		if _, err := h.api.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String(id), TagKeys: remove}); err != nil {
			return nil, fmt.Errorf("removing tags: %w", classify(err))
		}
	}
	if len(set) > 0 {
		if _, err := h.api.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(id), Tags: set}); err != nil {
			return nil, fmt.Errorf("tagging: %w", classify(err))
		}
	}
	actual, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("stream %q disappeared during update", id)
	}
	if !actual.Has("tags") {
		setMap(actual, "tags", desired.StringMap("tags"))
	}
	return actual, nil
}

func (h *kinesisStream) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	// EnforceConsumerDeletion: registered enhanced fan-out consumers would
	// otherwise block the deletion.
	_, err := h.api.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(id), EnforceConsumerDeletion: aws.Bool(true)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	w := kinesis.NewStreamNotExistsWaiter(h.api, func(o *kinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 20*time.Second
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(id), Limit: aws.Int32(1)}, h.wait); err != nil {
		return fmt.Errorf("waiting for stream %s to be deleted: %w", id, classify(err))
	}
	return nil
}
