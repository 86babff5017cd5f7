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
// (owned = true) it writes the whole document: Lambda configurations from
// triggers, queue and topic configurations from routes. Otherwise it merges
// its configurations into the existing document by configuration id, leaving
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

// notificationKinds are the lists of configurations the resource holds, each
// with the attribute naming its destination.
var notificationKinds = []struct{ list, dest string }{
	{"lambda", "function_arn"}, {"queue", "queue_arn"}, {"topic", "topic_arn"},
}

// notificationIDs is the set of configuration ids this resource manages: those last
// applied. nil means "all configurations" (the document is owned, or
// nothing is known about it).
func notificationIDs(prior planner.Attrs) map[string]bool {
	if prior == nil || !prior.Has("owned") || prior.Bool("owned") {
		return nil
	}
	ids := map[string]bool{}
	for _, k := range notificationKinds {
		for _, c := range prior.List(k.list) {
			ids[c.String("id")] = true
		}
	}
	return ids
}

// notificationConfig is one configuration of any kind, in neutral form.
type notificationConfig struct {
	id, dest string
	events   []s3types.Event
	filter   *s3types.NotificationConfigurationFilter
}

// configsOf returns the document's configurations of one kind.
func configsOf(doc *s3types.NotificationConfiguration, list string) []notificationConfig {
	var out []notificationConfig
	switch list {
	case "lambda":
		for _, c := range doc.LambdaFunctionConfigurations {
			out = append(out, notificationConfig{aws.ToString(c.Id), aws.ToString(c.LambdaFunctionArn), c.Events, c.Filter})
		}
	case "queue":
		for _, c := range doc.QueueConfigurations {
			out = append(out, notificationConfig{aws.ToString(c.Id), aws.ToString(c.QueueArn), c.Events, c.Filter})
		}
	case "topic":
		for _, c := range doc.TopicConfigurations {
			out = append(out, notificationConfig{aws.ToString(c.Id), aws.ToString(c.TopicArn), c.Events, c.Filter})
		}
	}
	return out
}

// addConfig appends c to the document's list of that kind.
func addConfig(doc *s3types.NotificationConfiguration, list string, c notificationConfig) {
	switch list {
	case "lambda":
		doc.LambdaFunctionConfigurations = append(doc.LambdaFunctionConfigurations, s3types.LambdaFunctionConfiguration{
			Id: aws.String(c.id), LambdaFunctionArn: aws.String(c.dest), Events: c.events, Filter: c.filter})
	case "queue":
		doc.QueueConfigurations = append(doc.QueueConfigurations, s3types.QueueConfiguration{
			Id: aws.String(c.id), QueueArn: aws.String(c.dest), Events: c.events, Filter: c.filter})
	case "topic":
		doc.TopicConfigurations = append(doc.TopicConfigurations, s3types.TopicConfiguration{
			Id: aws.String(c.id), TopicArn: aws.String(c.dest), Events: c.events, Filter: c.filter})
	}
}

func docOf(out *s3.GetBucketNotificationConfigurationOutput) *s3types.NotificationConfiguration {
	return &s3types.NotificationConfiguration{
		LambdaFunctionConfigurations: out.LambdaFunctionConfigurations,
		QueueConfigurations:          out.QueueConfigurations,
		TopicConfigurations:          out.TopicConfigurations,
		EventBridgeConfiguration:     out.EventBridgeConfiguration,
	}
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
	doc := docOf(out)
	attrs := planner.Attrs{"bucket": id}
	found := false
	for _, k := range notificationKinds {
		var configs []planner.Attrs
		for _, c := range configsOf(doc, k.list) {
			if mine == nil || mine[c.id] {
				configs = append(configs, configAttrs(c, k.dest))
			}
		}
		if len(configs) > 0 {
			attrs[k.list] = orderLikePrior(configs, prior.List(k.list))
			found = true
		}
	}
	if !found {
		// Nothing of ours is in the document: the notification is gone
		// (deleted, or never written), even though the bucket remains.
		return nil, false, nil
	}
	// "owned" is evdeploy's own setting, never reported by S3: left out so the
	// planner keeps the applied value.
	return attrs, true, nil
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

// configAttrs is one configuration in attribute form; prefix and suffix only
// when the filter has them.
func configAttrs(c notificationConfig, dest string) planner.Attrs {
	a := planner.Attrs{"id": c.id, dest: c.dest, "events": stringsAttr(c.events)}
	if c.filter != nil && c.filter.Key != nil {
		for _, r := range c.filter.Key.FilterRules {
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

// configFrom checks and converts one configuration's attributes.
func configFrom(a planner.Attrs, list, dest string) (notificationConfig, error) {
	id := a.String("id")
	if id == "" {
		return notificationConfig{}, fmt.Errorf("%s configuration without an id", list)
	}
	if err := checkARN(list+"["+id+"]."+dest, a.String(dest)); err != nil {
		return notificationConfig{}, err
	}
	events := a.Strings("events")
	if len(events) == 0 {
		return notificationConfig{}, fmt.Errorf("%s configuration %q has no events", list, id)
	}
	c := notificationConfig{id: id, dest: a.String(dest)}
	for _, e := range events {
		c.events = append(c.events, s3types.Event(e))
	}
	var rules []s3types.FilterRule
	if p := a.String("prefix"); p != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNamePrefix, Value: aws.String(p)})
	}
	if s := a.String("suffix"); s != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(s)})
	}
	if len(rules) > 0 {
		c.filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
	}
	return c, nil
}

// apply writes desired's configurations: the whole document when owned, else
// merged into what the bucket has, replacing the configurations in drop (the
// ones this resource applied before) and any with one of desired's ids.
func (h *s3BucketNotification) apply(ctx context.Context, desired planner.Attrs, drop map[string]bool) (planner.Attrs, error) {
	bucket := desired.String("bucket")
	ours := &s3types.NotificationConfiguration{}
	ids := map[string]bool{}
	attrs := planner.Attrs{"bucket": bucket, "owned": desired.Bool("owned")}
	for _, k := range notificationKinds {
		var list []any
		for _, a := range desired.List(k.list) {
			c, err := configFrom(a, k.list, k.dest)
			if err != nil {
				return nil, fmt.Errorf("bucket %s notification: %w", bucket, err)
			}
			if ids[c.id] {
				return nil, fmt.Errorf("bucket %s notification: configuration id %q appears twice", bucket, c.id)
			}
			ids[c.id] = true
			addConfig(ours, k.list, c)
			list = append(list, map[string]any(configAttrs(c, k.dest)))
		}
		if len(list) > 0 {
			attrs[k.list] = list
		}
	}
	doc := ours
	if !desired.Bool("owned") {
		cur, err := h.get(ctx, bucket)
		if err != nil {
			return nil, classify(err)
		}
		doc = mergeNotification(docOf(cur), ours, func(id string) bool { return ids[id] || drop[id] })
	}
	if _, err := h.api.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: doc,
	}); err != nil {
		return nil, notificationError(err)
	}
	return attrs, nil
}

// notificationError classifies a write error. S3 checks that it may deliver
// to every destination ("Unable to validate the following destination
// configurations"); right after a queue or topic policy is written that is
// propagation, retried.
func notificationError(err error) error {
	if hasCode(err, "InvalidArgument") && strings.Contains(err.Error(), "Unable to validate the following destination configurations") {
		return propagating(err)
	}
	return classify(err)
}

// mergeNotification keeps every configuration of cur except those replace
// claims, then adds ours.
func mergeNotification(cur, ours *s3types.NotificationConfiguration, replace func(id string) bool) *s3types.NotificationConfiguration {
	doc := &s3types.NotificationConfiguration{EventBridgeConfiguration: cur.EventBridgeConfiguration}
	for _, k := range notificationKinds {
		for _, c := range configsOf(cur, k.list) {
			if !replace(c.id) {
				addConfig(doc, k.list, c)
			}
		}
		for _, c := range configsOf(ours, k.list) {
			addConfig(doc, k.list, c)
		}
	}
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
		for _, k := range notificationKinds {
			for _, a := range desired.List(k.list) {
				want[a.String("id")] = true
			}
		}
		for _, k := range notificationKinds {
			for _, c := range configsOf(docOf(cur), k.list) {
				if want[c.id] {
					return "", nil, fmt.Errorf("bucket %s notification configuration %q: %w", bucket, c.id, planner.ErrAlreadyExists)
				}
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
	for _, k := range notificationKinds {
		for _, c := range prior.List(k.list) {
			drop[c.String("id")] = true
		}
	}
	return h.apply(ctx, desired, drop)
}

func (h *s3BucketNotification) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	if prior == nil || !prior.Has("owned") {
		// Without the applied attributes it is unknown whether the document
		// is ours to clear: refuse rather than wipe someone else's.
		return fmt.Errorf("bucket %s notification: deleting needs the last applied attributes (owned, lambda, queue, topic)", id)
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
		doc = mergeNotification(docOf(cur), &s3types.NotificationConfiguration{}, func(cid string) bool { return mine[cid] })
	}
	_, err := h.api.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(id), NotificationConfiguration: doc,
	})
	if err != nil && !hasCode(err, "NoSuchBucket", "NotFound") {
		return classify(err)
	}
	return nil
}
