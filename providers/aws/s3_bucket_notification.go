package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evdeploy/evdeploy/planner"
)

// s3NotificationAPI is the part of the S3 API the notification handler uses.
type s3NotificationAPI interface {
	GetBucketNotificationConfiguration(context.Context, *s3.GetBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	PutBucketNotificationConfiguration(context.Context, *s3.PutBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error)
}

// s3BucketNotification manages aws_s3_bucket_notification, id = bucket name.
//
// A bucket has one notification document. When evdeploy owns the bucket
// (owned = true) it writes the whole document. Otherwise it merges its Lambda
// configurations into the existing document by configuration id, leaving
// every other configuration as it found it, and removes only its own.
type s3BucketNotification struct{ api s3NotificationAPI }

func newS3BucketNotification(c *clients) planner.Handler {
	return &s3BucketNotification{api: c.s3}
}

func (h *s3BucketNotification) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_s3_bucket_notification",
		ForceNew: []string{"bucket"},
	}
}

func (h *s3BucketNotification) get(ctx context.Context, bucket string) (*s3.GetBucketNotificationConfigurationOutput, error) {
	return h.api.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
}

// notificationIDs is the set of configuration ids this resource manages: those last
// applied. nil means "all Lambda configurations" (the document is owned, or
// nothing is known about it).
func notificationIDs(prior planner.Attrs) map[string]bool {
	if prior == nil || !prior.Has("owned") || prior.Bool("owned") {
		return nil
	}
	ids := map[string]bool{}
	for _, c := range prior.List("lambda") {
		ids[c.String("id")] = true
	}
	return ids
}

func (h *s3BucketNotification) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.get(ctx, id)
	if hasCode(err, "NoSuchBucket", "NotFound") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	mine := notificationIDs(prior)
	var configs []planner.Attrs
	for _, c := range out.LambdaFunctionConfigurations {
		if mine == nil || mine[aws.ToString(c.Id)] {
			configs = append(configs, s3LambdaConfigAttrs(c))
		}
	}
	if len(configs) == 0 {
		// Nothing of ours is in the document: the notification is gone
		// (deleted, or never written), even though the bucket remains.
		return nil, false, nil
	}
	// "owned" is evdeploy's own setting, never reported by S3: left out so the
	// planner keeps the applied value.
	return planner.Attrs{"bucket": id, "lambda": orderLikePrior(configs, prior.List("lambda"))}, true, nil
}

// orderLikePrior orders configurations as in the last applied list (lists compare
// in order), then any others by id.
func orderLikePrior(configs, prior []planner.Attrs) []any {
	pos := map[string]int{}
	for i, c := range prior {
		pos[c.String("id")] = i
	}
	sort.SliceStable(configs, func(i, j int) bool {
		a, b := configs[i].String("id"), configs[j].String("id")
		pa, oka := pos[a]
		pb, okb := pos[b]
		switch {
		case oka && okb:
			return pa < pb
		case oka != okb:
			return oka
		}
		return a < b
	})
	out := make([]any, len(configs))
	for i, c := range configs {
		out[i] = map[string]any(c)
	}
	return out
}

// s3LambdaConfigAttrs is one configuration in attribute form; prefix and suffix
// only when the filter has them.
func s3LambdaConfigAttrs(c s3types.LambdaFunctionConfiguration) planner.Attrs {
	a := planner.Attrs{
		"id":           aws.ToString(c.Id),
		"function_arn": aws.ToString(c.LambdaFunctionArn),
		"events":       stringsAttr(c.Events),
	}
	if c.Filter != nil && c.Filter.Key != nil {
		for _, r := range c.Filter.Key.FilterRules {
			// S3 accepts the names in either case and reports "Prefix"/"Suffix".
			switch strings.ToLower(string(r.Name)) {
			case "prefix":
				a["prefix"] = aws.ToString(r.Value)
			case "suffix":
				a["suffix"] = aws.ToString(r.Value)
			}
		}
	}
	return a
}

func s3LambdaConfig(a planner.Attrs) (s3types.LambdaFunctionConfiguration, error) {
	id := a.String("id")
	if id == "" {
		return s3types.LambdaFunctionConfiguration{}, fmt.Errorf("lambda configuration without an id")
	}
	if err := checkARN("lambda["+id+"].function_arn", a.String("function_arn")); err != nil {
		return s3types.LambdaFunctionConfiguration{}, err
	}
	events := a.Strings("events")
	if len(events) == 0 {
		return s3types.LambdaFunctionConfiguration{}, fmt.Errorf("lambda configuration %q has no events", id)
	}
	c := s3types.LambdaFunctionConfiguration{Id: aws.String(id), LambdaFunctionArn: aws.String(a.String("function_arn"))}
	for _, e := range events {
		c.Events = append(c.Events, s3types.Event(e))
	}
	var rules []s3types.FilterRule
	if p := a.String("prefix"); p != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNamePrefix, Value: aws.String(p)})
	}
	if s := a.String("suffix"); s != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(s)})
	}
	if len(rules) > 0 {
		c.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
	}
	return c, nil
}

// apply writes desired's configurations: the whole document when owned, else
// merged into what the bucket has, replacing the configurations in drop (the
// ones this resource applied before) and any with one of desired's ids.
func (h *s3BucketNotification) apply(ctx context.Context, desired planner.Attrs, drop map[string]bool) (planner.Attrs, error) {
	bucket := desired.String("bucket")
	var ours []s3types.LambdaFunctionConfiguration
	ids := map[string]bool{}
	for _, a := range desired.List("lambda") {
		c, err := s3LambdaConfig(a)
		if err != nil {
			return nil, fmt.Errorf("bucket %s notification: %w", bucket, err)
		}
		if ids[*c.Id] {
			return nil, fmt.Errorf("bucket %s notification: configuration id %q appears twice", bucket, *c.Id)
		}
		ids[*c.Id] = true
		ours = append(ours, c)
	}
	doc := &s3types.NotificationConfiguration{LambdaFunctionConfigurations: ours}
	if !desired.Bool("owned") {
		cur, err := h.get(ctx, bucket)
		if err != nil {
			return nil, classify(err)
		}
		doc = mergeNotification(cur, ours, func(id string) bool { return ids[id] || drop[id] })
	}
	if _, err := h.api.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: doc,
	}); err != nil {
		return nil, classify(err)
	}
	configs := make([]any, len(ours))
	for i, c := range ours {
		configs[i] = map[string]any(s3LambdaConfigAttrs(c))
	}
	return planner.Attrs{"bucket": bucket, "owned": desired.Bool("owned"), "lambda": configs}, nil
}

// mergeNotification keeps every configuration of cur except the Lambda ones
// replace claims, then adds ours.
func mergeNotification(cur *s3.GetBucketNotificationConfigurationOutput, ours []s3types.LambdaFunctionConfiguration, replace func(id string) bool) *s3types.NotificationConfiguration {
	doc := &s3types.NotificationConfiguration{
		QueueConfigurations:      cur.QueueConfigurations,
		TopicConfigurations:      cur.TopicConfigurations,
		EventBridgeConfiguration: cur.EventBridgeConfiguration,
	}
	for _, c := range cur.LambdaFunctionConfigurations {
		if !replace(aws.ToString(c.Id)) {
			doc.LambdaFunctionConfigurations = append(doc.LambdaFunctionConfigurations, c)
		}
	}
	doc.LambdaFunctionConfigurations = append(doc.LambdaFunctionConfigurations, ours...)
	return doc
}

func (h *s3BucketNotification) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	bucket := desired.String("bucket")
	if !desired.Bool("owned") {
		// Merging must not take over a configuration someone else wrote with
		// one of our ids.
		cur, err := h.get(ctx, bucket)
		if err != nil {
			return "", nil, classify(err)
		}
		want := map[string]bool{}
		for _, a := range desired.List("lambda") {
			want[a.String("id")] = true
		}
		for _, c := range cur.LambdaFunctionConfigurations {
			if want[aws.ToString(c.Id)] {
				return "", nil, fmt.Errorf("bucket %s notification configuration %q: %w", bucket, aws.ToString(c.Id), planner.ErrAlreadyExists)
			}
		}
	}
	attrs, err := h.apply(ctx, desired, nil)
	if err != nil {
		return "", nil, err
	}
	return bucket, attrs, nil
}

func (h *s3BucketNotification) Update(ctx context.Context, _ string, prior, desired planner.Attrs) (planner.Attrs, error) {
	drop := map[string]bool{}
	for _, c := range prior.List("lambda") {
		drop[c.String("id")] = true
	}
	return h.apply(ctx, desired, drop)
}

func (h *s3BucketNotification) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	if prior == nil || !prior.Has("owned") {
		// Without the applied attributes it is unknown whether the document
		// is ours to clear: refuse rather than wipe someone else's.
		return fmt.Errorf("bucket %s notification: deleting needs the last applied attributes (owned, lambda)", id)
	}
	mine := notificationIDs(prior)
	var doc *s3types.NotificationConfiguration
	if mine == nil {
		doc = &s3types.NotificationConfiguration{} // owned: the empty document
	} else {
		cur, err := h.get(ctx, id)
		if hasCode(err, "NoSuchBucket", "NotFound") {
			return nil
		}
		if err != nil {
			return classify(err)
		}
		doc = mergeNotification(cur, nil, func(cid string) bool { return mine[cid] })
	}
	_, err := h.api.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(id), NotificationConfiguration: doc,
	})
	if err != nil && !hasCode(err, "NoSuchBucket", "NotFound") {
		return classify(err)
	}
	return nil
}
