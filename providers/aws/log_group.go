package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/evdeploy/evdeploy/planner"
)

// logGroupAPI is the part of the CloudWatch Logs API the log group handler uses.
type logGroupAPI interface {
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	DeleteRetentionPolicy(context.Context, *cloudwatchlogs.DeleteRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteRetentionPolicyOutput, error)
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatchlogs.TagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error)
	UntagResource(context.Context, *cloudwatchlogs.UntagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.UntagResourceOutput, error)
	DeleteLogGroup(context.Context, *cloudwatchlogs.DeleteLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
}

// logGroup manages aws_cloudwatch_log_group; its physical id is the group name.
type logGroup struct {
	api logGroupAPI

	// prefetched holds what Prefetch listed, by name (nil: listed, absent),
	// each entry for one Read.
	mu         sync.Mutex
	prefetched map[string]*logstypes.LogGroup
}

func newLogGroup(c *clients) *logGroup { return &logGroup{api: c.logs} }

func (*logGroup) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_cloudwatch_log_group",
		ForceNew: []string{"name"},
		Computed: []string{"arn"},
	}
}

func isLogsNotFound(err error) bool {
	var nf *logstypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// describe finds the group by exact name: DescribeLogGroups only filters by
// prefix, so other groups sharing the prefix are skipped.
func (h *logGroup) describe(ctx context.Context, name string) (*logstypes.LogGroup, error) {
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(h.api, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for i := range page.LogGroups {
			if aws.ToString(page.LogGroups[i].LogGroupName) == name {
				return &page.LogGroups[i], nil
			}
		}
	}
	return nil, nil
}

// groupARN is the group's ARN without the ":*" DescribeLogGroups appends (the
// form tagging and IAM resource names use).
func groupARN(g *logstypes.LogGroup) string {
	if a := aws.ToString(g.LogGroupArn); a != "" {
		return a
	}
	return strings.TrimSuffix(aws.ToString(g.Arn), ":*")
}

// Prefetch lists the groups sharing the ids' longest common name prefix (an
// app's groups: /aws/lambda/<app>-<stage>-), 50 a page, so the reads that
// follow only ask for tags. It gives up (and the reads describe one by one)
// when the prefix matches many more groups than asked for.
func (h *logGroup) Prefetch(ctx context.Context, ids []string) error {
	prefix := ids[0]
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
		for !strings.HasPrefix(id, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	found := make(map[string]*logstypes.LogGroup, len(ids))
	maxPages := 2*(len(ids)/50+1) + 2
	in := &cloudwatchlogs.DescribeLogGroupsInput{}
	if prefix != "" {
		in.LogGroupNamePrefix = aws.String(prefix)
	}
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(h.api, in)
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil // not worth it: every Read describes its own group
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return classify(err)
		}
		for i := range page.LogGroups {
			if name := aws.ToString(page.LogGroups[i].LogGroupName); want[name] {
				found[name] = &page.LogGroups[i]
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prefetched = make(map[string]*logstypes.LogGroup, len(ids))
	for id := range want {
		h.prefetched[id] = found[id]
	}
	return nil
}

// takePrefetched returns (and forgets) what Prefetch saw of the group name.
func (h *logGroup) takePrefetched(name string) (g *logstypes.LogGroup, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok = h.prefetched[name]
	delete(h.prefetched, name)
	return g, ok
}

func (h *logGroup) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	g, ok := h.takePrefetched(id)
	if !ok {
		var err error
		if g, err = h.describe(ctx, id); err != nil {
			return nil, false, err
		}
	}
	if g == nil {
		return nil, false, nil
	}
	arn := groupARN(g)
	a := planner.Attrs{"name": id, "arn": arn}
	if g.RetentionInDays != nil {
		a["retention_days"] = int64(*g.RetentionInDays)
	}
	tags, err := h.api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if isLogsNotFound(err) {
		return nil, false, nil // deleted between the two calls
	}
	if err != nil {
		return nil, false, classify(err)
	}
	setMap(a, "tags", tags.Tags)
	return a, true, nil
}

func (h *logGroup) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}
	if tags := desired.StringMap("tags"); len(tags) > 0 {
		in.Tags = tags
	}
	if _, err := h.api.CreateLogGroup(ctx, in); err != nil {
		var exists *logstypes.ResourceAlreadyExistsException
		if errors.As(err, &exists) {
			return "", nil, fmt.Errorf("log group %s: %w", name, errors.Join(planner.ErrAlreadyExists, err))
		}
		return "", nil, classify(err)
	}
	if d := desired.Int("retention_days"); d > 0 {
		if err := h.putRetention(ctx, name, d); err != nil {
			return "", nil, err
		}
	}
	actual, exists, err := h.Read(ctx, name, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("log group %s not found right after creating it", name)
	}
	return name, actual, nil
}

func (h *logGroup) putRetention(ctx context.Context, name string, days int64) error {
	_, err := h.api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
		LogGroupName: aws.String(name), RetentionInDays: aws.Int32(int32(days)),
	})
	return classify(err)
}

func (h *logGroup) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if d := desired.Int("retention_days"); d != prior.Int("retention_days") {
		if d > 0 {
			if err := h.putRetention(ctx, id, d); err != nil {
				return nil, err
			}
		} else if _, err := h.api.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(id)}); err != nil {
			return nil, classify(err) // no retention: keep logs forever
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 || len(remove) > 0 {
		g, err := h.describe(ctx, id)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, fmt.Errorf("log group %s disappeared during update", id)
		}
		arn := aws.String(groupARN(g))
		if len(set) > 0 {
			if _, err := h.api.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: arn, Tags: set}); err != nil {
				return nil, classify(err)
			}
		}
		if len(remove) > 0 {
			if _, err := h.api.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: arn, TagKeys: remove}); err != nil {
				return nil, classify(err)
			}
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("log group %s disappeared during update", id)
	}
	return actual, nil
}

func (h *logGroup) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(id)})
	if err != nil && !isLogsNotFound(err) {
		return classify(err)
	}
	return nil
}
