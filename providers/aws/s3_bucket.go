package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evdeploy/evdeploy/planner"
)

// s3BucketAPI is the part of the S3 API the bucket handler uses.
type s3BucketAPI interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	DeleteBucket(context.Context, *s3.DeleteBucketInput, ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	DeleteBucketTagging(context.Context, *s3.DeleteBucketTaggingInput, ...func(*s3.Options)) (*s3.DeleteBucketTaggingOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	DeletePublicAccessBlock(context.Context, *s3.DeletePublicAccessBlockInput, ...func(*s3.Options)) (*s3.DeletePublicAccessBlockOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	DeleteBucketLifecycle(context.Context, *s3.DeleteBucketLifecycleInput, ...func(*s3.Options)) (*s3.DeleteBucketLifecycleOutput, error)
}

// s3Bucket manages aws_s3_bucket, id = bucket name.
type s3Bucket struct {
	api      s3BucketAPI
	region   string
	identity func(context.Context) (account, partition string, err error)
}

func newS3Bucket(c *clients) planner.Handler {
	return &s3Bucket{api: c.s3, region: c.cfg.Region, identity: c.callerIdentity}
}

func (h *s3Bucket) Schema() planner.Schema {
	return planner.Schema{
		Type:      "aws_s3_bucket",
		ForceNew:  []string{"name"},
		Computed:  []string{"arn"},
		HoldsData: true,
		// PutBucketTagging follows CreateBucket.
		TagsAfterCreate: true,
	}
}

// s3NotFound reports a bucket that does not exist: HeadBucket answers a bare
// 404 (NotFound), the other calls NoSuchBucket.
func s3NotFound(err error) bool { return hasCode(err, "NotFound", "NoSuchBucket") }

func (h *s3Bucket) arn(ctx context.Context, name string) (string, error) {
	_, partition, err := h.identity(ctx)
	if err != nil {
		return "", err
	}
	return "arn:" + partition + ":s3:::" + name, nil
}

func (h *s3Bucket) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	_, err := h.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(id)})
	if s3NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	arn, err := h.arn(ctx, id)
	if err != nil {
		return nil, false, err
	}
	attrs := planner.Attrs{"name": id, "arn": arn}
	tags, err := h.tags(ctx, id)
	if s3NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	setMap(attrs, "tags", tags)
	block, err := h.blocked(ctx, id)
	if s3NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	attrs["block_public_access"] = block
	ver, err := h.api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(id)})
	if s3NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	// Versioning once enabled can only be suspended: Suspended reads as off.
	attrs["versioning"] = ver.Status == s3types.BucketVersioningStatusEnabled
	rules, err := h.lifecycle(ctx, id)
	if s3NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	attrs["lifecycle_rules"] = rules
	return attrs, true, nil
}

// lifecycle reads the bucket's enabled lifecycle rules as the
// lifecycle_rules attribute: rule id → {prefix, expire_days}.
func (h *s3Bucket) lifecycle(ctx context.Context, bucket string) (map[string]any, error) {
	out, err := h.api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	rules := map[string]any{}
	if hasCode(err, "NoSuchLifecycleConfiguration") {
		return rules, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	for _, r := range out.Rules {
		if r.Status != s3types.ExpirationStatusEnabled {
			continue
		}
		prefix := aws.ToString(r.Prefix) //nolint:staticcheck // the legacy field, still what some services return
		if r.Filter != nil && r.Filter.Prefix != nil {
			prefix = aws.ToString(r.Filter.Prefix)
		}
		m := map[string]any{"prefix": prefix}
		if r.Expiration != nil && r.Expiration.Days != nil {
			m["expire_days"] = int64(*r.Expiration.Days)
		}
		rules[aws.ToString(r.ID)] = m
	}
	return rules, nil
}

// setVersioning enables versioning or suspends it (S3 cannot turn it off).
func (h *s3Bucket) setVersioning(ctx context.Context, bucket string, on bool) error {
	status := s3types.BucketVersioningStatusSuspended
	if on {
		status = s3types.BucketVersioningStatusEnabled
	}
	_, err := h.api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: aws.String(bucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: status},
	})
	if err != nil {
		return fmt.Errorf("setting versioning: %w", classify(err))
	}
	return nil
}

// setLifecycle replaces the bucket's whole lifecycle configuration (S3 keeps
// one document per bucket), or deletes it when there are no rules.
func (h *s3Bucket) setLifecycle(ctx context.Context, bucket string, rules []planner.Attrs, names []string) error {
	if len(rules) == 0 {
		_, err := h.api.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("deleting lifecycle rules: %w", classify(err))
		}
		return nil
	}
	cfg := &s3types.BucketLifecycleConfiguration{}
	for i, r := range rules {
		cfg.Rules = append(cfg.Rules, s3types.LifecycleRule{
			ID:         aws.String(names[i]),
			Status:     s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String(r.String("prefix"))},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(int32(r.Int("expire_days")))},
		})
	}
	_, err := h.api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket), LifecycleConfiguration: cfg})
	if err != nil {
		return fmt.Errorf("setting lifecycle rules: %w", classify(err))
	}
	return nil
}

// lifecycleRules returns the lifecycle_rules attribute in rule-name order.
func lifecycleRules(a planner.Attrs) (rules []planner.Attrs, names []string) {
	m, _ := a["lifecycle_rules"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		r, _ := m[k].(map[string]any)
		rules, names = append(rules, planner.Attrs(r)), append(names, k)
	}
	return rules, names
}

func (h *s3Bucket) tags(ctx context.Context, bucket string) (map[string]string, error) {
	out, err := h.api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if hasCode(err, "NoSuchTagSet") { // S3's answer for a bucket without tags
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// blocked reports whether all four public access block settings are on; a
// bucket without the configuration, or with only some settings, is not
// blocked in the sense evdeploy promises.
func (h *s3Bucket) blocked(ctx context.Context, bucket string) (bool, error) {
	out, err := h.api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if hasCode(err, "NoSuchPublicAccessBlockConfiguration") {
		return false, nil
	}
	if err != nil {
		return false, classify(err)
	}
	c := out.PublicAccessBlockConfiguration
	if c == nil {
		return false, nil
	}
	return aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.IgnorePublicAcls) &&
		aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.RestrictPublicBuckets), nil
}

func (h *s3Bucket) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	// In us-east-1 CreateBucket succeeds on a bucket the caller already owns,
	// so the collision is detected up front. A 403 means another account owns
	// the name.
	_, err := h.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	switch {
	case err == nil || hasCode(err, "Forbidden", "AccessDenied", "MovedPermanently"):
		return "", nil, fmt.Errorf("bucket %q: %w", name, planner.ErrAlreadyExists)
	case !s3NotFound(err):
		return "", nil, classify(err)
	}
	// The name was free: from here on a failure may leave the bucket this
	// call made (an answer lost, a later call failed), so it is marked for
	// the executor's retry to adopt rather than take for someone else's.
	id, attrs, err := h.create(ctx, name, desired)
	if err != nil && !errors.Is(err, planner.ErrAlreadyExists) {
		err = fmt.Errorf("bucket %q: %w", name, errors.Join(planner.ErrCreateSent, err))
	}
	return id, attrs, err
}

// create makes the bucket Create found absent, then tags and configures it.
func (h *s3Bucket) create(ctx context.Context, name string, desired planner.Attrs) (string, planner.Attrs, error) {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if h.region != "" && h.region != "us-east-1" { // us-east-1 rejects its own name as a constraint
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(h.region),
		}
	}
	if _, err := h.api.CreateBucket(ctx, in); err != nil {
		// BucketAlreadyOwnedByYou right after HeadBucket found nothing is
		// the SDK's retry of this very call (its first answer lost): the
		// bucket is the one this create made, untagged yet, so the create
		// goes on. The collision with a bucket that was there before is
		// the HeadBucket above.
		if hasCode(err, "BucketAlreadyExists") {
			return "", nil, fmt.Errorf("bucket %q: %w", name, planner.ErrAlreadyExists)
		}
		if !hasCode(err, "BucketAlreadyOwnedByYou") {
			return "", nil, classify(err)
		}
	}
	// From here on the bucket exists: errors still return its id so the
	// executor records it.
	if err := h.putTags(ctx, name, desired.StringMap("tags")); err != nil {
		return name, nil, err
	}
	if err := h.setBlock(ctx, name, desired.Bool("block_public_access")); err != nil {
		return name, nil, err
	}
	if desired.Bool("versioning") {
		if err := h.setVersioning(ctx, name, true); err != nil {
			return name, nil, err
		}
	}
	if rules, names := lifecycleRules(desired); len(rules) > 0 {
		if err := h.setLifecycle(ctx, name, rules, names); err != nil {
			return name, nil, err
		}
	}
	arn, err := h.arn(ctx, name)
	if err != nil {
		return name, nil, err
	}
	return name, h.attrs(desired, arn), nil
}

func (h *s3Bucket) attrs(desired planner.Attrs, arn string) planner.Attrs {
	attrs := planner.Attrs{"name": desired.String("name"), "arn": arn, "block_public_access": desired.Bool("block_public_access")}
	setMap(attrs, "tags", desired.StringMap("tags"))
	attrs["versioning"] = desired.Bool("versioning")
	attrs["lifecycle_rules"] = map[string]any{}
	if m, ok := desired["lifecycle_rules"].(map[string]any); ok {
		attrs["lifecycle_rules"] = planner.Norm(m)
	}
	return attrs
}

// putTags replaces the bucket's whole tag set (S3 has no per-key tagging).
func (h *s3Bucket) putTags(ctx context.Context, bucket string, tags map[string]string) error {
	if len(tags) == 0 {
		_, err := h.api.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bucket)})
		return classify(err)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := make([]s3types.Tag, len(keys))
	for i, k := range keys {
		set[i] = s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])}
	}
	_, err := h.api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket: aws.String(bucket), Tagging: &s3types.Tagging{TagSet: set},
	})
	return classify(err)
}

// setBlock turns all four public access block settings on, or removes the
// configuration. New AWS buckets block public access by default, so "off" is
// an explicit delete, not the absence of a put.
func (h *s3Bucket) setBlock(ctx context.Context, bucket string, on bool) error {
	if !on {
		_, err := h.api.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(bucket)})
		return classify(err)
	}
	_, err := h.api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	})
	return classify(err)
}

func (h *s3Bucket) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if !planner.Equal(prior["tags"], desired["tags"]) || !prior.Has("tags") {
		if err := h.putTags(ctx, id, desired.StringMap("tags")); err != nil {
			return nil, err
		}
	}
	if prior.Bool("block_public_access") != desired.Bool("block_public_access") || !prior.Has("block_public_access") {
		if err := h.setBlock(ctx, id, desired.Bool("block_public_access")); err != nil {
			return nil, err
		}
	}
	// A bucket lowered without these settings (the artifacts bucket) keeps
	// whatever it has.
	if desired.Has("versioning") && (prior.Bool("versioning") != desired.Bool("versioning") || !prior.Has("versioning")) {
		if err := h.setVersioning(ctx, id, desired.Bool("versioning")); err != nil {
			return nil, err
		}
	}
	if desired.Has("lifecycle_rules") && (!planner.Equal(prior["lifecycle_rules"], desired["lifecycle_rules"]) || !prior.Has("lifecycle_rules")) {
		rules, names := lifecycleRules(desired)
		if err := h.setLifecycle(ctx, id, rules, names); err != nil {
			return nil, err
		}
	}
	arn, err := h.arn(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.attrs(desired, arn), nil
}

// errBucketNotEmpty is wrapped by Delete when a bucket holds objects and the
// user has not allowed data loss.
var errBucketNotEmpty = errors.New("bucket is not empty")

func (h *s3Bucket) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(id)})
	switch {
	case err == nil || s3NotFound(err):
		return nil
	case !hasCode(err, "BucketNotEmpty"):
		return classify(err)
	}
	if !planner.AllowDataLoss(ctx) {
		n, more, err := h.count(ctx, id)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%d objects", n)
		if more {
			what = fmt.Sprintf("%d+ objects", n)
		} else if n == 0 {
			what = "noncurrent object versions"
		}
		return fmt.Errorf("%w: bucket %s holds %s; deleting it destroys them: re-run with --allow-data-loss to empty and delete it", errBucketNotEmpty, id, what)
	}
	if err := h.empty(ctx, id); err != nil {
		return err
	}
	_, err = h.api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(id)})
	if err != nil && !s3NotFound(err) {
		return classify(err)
	}
	return nil
}

// count returns how many objects the bucket holds, up to one page; more says
// there are further pages.
func (h *s3Bucket) count(ctx context.Context, bucket string) (n int, more bool, err error) {
	out, err := h.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return 0, false, classify(err)
	}
	return len(out.Contents), aws.ToBool(out.IsTruncated), nil
}

// empty deletes every object version and delete marker, a page at a time.
// Each round lists from the start again: what was deleted is gone, so the
// listing advances without markers and ends on an empty page.
func (h *s3Bucket) empty(ctx context.Context, bucket string) error {
	var last string // first version of the previous round: seen again = no progress
	for {
		out, err := h.api.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		if err != nil {
			return classify(err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			return nil
		}
		first := aws.ToString(ids[0].Key) + "\x00" + aws.ToString(ids[0].VersionId)
		if first == last {
			return fmt.Errorf("emptying bucket %s: %s is still listed after it was deleted", bucket, aws.ToString(ids[0].Key))
		}
		last = first
		for len(ids) > 0 {
			batch := ids[:min(len(ids), 1000)] // DeleteObjects takes at most 1000 keys
			ids = ids[len(batch):]
			res, err := h.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)},
			})
			if err != nil {
				return classify(err)
			}
			if len(res.Errors) > 0 {
				e := res.Errors[0]
				return fmt.Errorf("emptying bucket %s: deleting %s: %s: %s", bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
			}
		}
	}
}
