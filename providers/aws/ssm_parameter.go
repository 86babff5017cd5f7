package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/evdeploy/evdeploy/planner"
)

// A secret's SSM container is a SecureString parameter. SSM cannot hold a
// parameter without a value, so evdeploy creates it with a placeholder and
// the tag evdeploy:value=unset; `evdeploy secret set` writes the real value
// as a new version and removes that tag. The placeholder is no secret.
const (
	SSMPlaceholder = "evdeploy: no value yet (run evdeploy secret set)"
	// UnsetTag marks a container whose value was never set. It is not an
	// ownership or user tag: Read leaves it out of "tags" and reports
	// has_value instead.
	UnsetTag = "evdeploy:value"
)

// ssmParameter manages aws_ssm_parameter: the SecureString container of a
// `secret` block; its physical id is the parameter's name. It never reads
// or reports the value (Update of the description is the exception SSM
// forces: see Update).
type ssmParameter struct {
	api    *ssm.Client
	caller func(context.Context) (account, partition string, err error)
	region string
}

func newSSMParameter(c *clients) *ssmParameter {
	return &ssmParameter{api: ssm.NewFromConfig(c.cfg), caller: c.callerIdentity, region: c.cfg.Region}
}

func (*ssmParameter) Schema() planner.Schema {
	return planner.Schema{
		Type:     planner.TypeSSMParameter,
		ForceNew: []string{"name", "type"},
		Computed: []string{"arn", "has_value"},
		// Deleting a parameter that holds a value loses it.
		HoldsData: true,
		DataWhen:  "has_value",
		// The tags go with PutParameter, but some endpoints drop them and
		// they are then set by a second call.
		TagsAfterCreate: true,
	}
}

func isSSMNotFound(err error) bool {
	var nf *ssmtypes.ParameterNotFound
	return errors.As(err, &nf) || hasCode(err, "ParameterNotFound", "InvalidResourceId")
}

// describeParameter reads the metadata of the parameter named id, never its
// value; nil when there is none.
func describeParameter(ctx context.Context, api interface {
	DescribeParameters(context.Context, *ssm.DescribeParametersInput, ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
}, id string) (*ssmtypes.ParameterMetadata, error) {
	out, err := api.DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{id}}},
	})
	if err != nil {
		return nil, err
	}
	for i := range out.Parameters {
		if aws.ToString(out.Parameters[i].Name) == id {
			return &out.Parameters[i], nil
		}
	}
	return nil, nil
}

// ssmDefaultKey is the AWS managed key SSM reports when none was chosen.
const ssmDefaultKey = "alias/aws/ssm"

func (h *ssmParameter) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	p, err := describeParameter(ctx, h.api, id)
	if err != nil {
		return nil, false, classify(err)
	}
	if p == nil {
		return nil, false, nil
	}
	a := planner.Attrs{"name": id, "type": string(p.Type), "description": aws.ToString(p.Description)}
	// "" is the store's AWS managed key, as the spec says it.
	a["kms_key_id"] = ""
	if k := aws.ToString(p.KeyId); k != "" && k != ssmDefaultKey {
		a["kms_key_id"] = k
	}
	if arn := aws.ToString(p.ARN); arn != "" {
		a["arn"] = arn
	} else {
		account, partition, err := h.caller(ctx)
		if err != nil {
			return nil, false, err
		}
		a["arn"] = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", partition, h.region, account, strings.TrimPrefix(id, "/"))
	}
	tags, err := h.api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(id)})
	if isSSMNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	m := map[string]string{}
	unset := false
	for _, t := range tags.TagList {
		if aws.ToString(t.Key) == UnsetTag {
			unset = true
			continue
		}
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	setMap(a, "tags", m)
	a["has_value"] = !unset
	return a, true, nil
}

func ssmTags(m map[string]string) []ssmtypes.Tag {
	var out []ssmtypes.Tag
	for k, v := range m {
		out = append(out, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func (h *ssmParameter) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	if _, exists, err := h.Read(ctx, name, nil); err != nil {
		return "", nil, err
	} else if exists {
		return "", nil, fmt.Errorf("parameter %s: %w", name, planner.ErrAlreadyExists)
	}
	tags := desired.StringMap("tags")
	if tags == nil {
		tags = map[string]string{}
	}
	tags[UnsetTag] = "unset"
	in := &ssm.PutParameterInput{
		Name:  aws.String(name),
		Type:  ssmtypes.ParameterTypeSecureString,
		Value: aws.String(SSMPlaceholder),
		Tags:  ssmTags(tags),
	}
	if d := desired.String("description"); d != "" {
		in.Description = aws.String(d)
	}
	if k := desired.String("kms_key_id"); k != "" {
		in.KeyId = aws.String(k)
	}
	if _, err := h.api.PutParameter(ctx, in); err != nil {
		if hasCode(err, "ParameterAlreadyExists") {
			return "", nil, fmt.Errorf("parameter %s: %w", name, planner.ErrAlreadyExists)
		}
		return "", nil, classify(err)
	}
	actual, exists, err := h.Read(ctx, name, desired)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		return "", nil, fmt.Errorf("parameter %s not found right after creating it", name)
	}
	if actual.StringMap("tags")["evdeploy:block"] == "" {
		// Some endpoints (kumo) drop the tags PutParameter carries: set them
		// with the tagging call.
		if _, err := h.api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name), Tags: ssmTags(tags)}); err != nil {
			return "", nil, errors.Join(planner.ErrCreateSent, classify(err))
		}
		if actual, _, err = h.Read(ctx, name, desired); err != nil {
			return "", nil, err
		}
	}
	return name, actual, nil
}

func (h *ssmParameter) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	if prior.String("description") != desired.String("description") || prior.String("kms_key_id") != desired.String("kms_key_id") {
		// SSM changes a parameter's description or key only with PutParameter,
		// which needs the value: it is read and written back unchanged as a new
		// version, in memory only (never into state, a plan or a log).
		cur, err := h.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(id), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, classify(err)
		}
		in := &ssm.PutParameterInput{
			Name: aws.String(id), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
			Value: cur.Parameter.Value, Description: aws.String(desired.String("description")),
		}
		if k := desired.String("kms_key_id"); k != "" {
			in.KeyId = aws.String(k)
		}
		if _, err := h.api.PutParameter(ctx, in); err != nil {
			return nil, classify(err)
		}
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(set) > 0 {
		if _, err := h.api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(id), Tags: ssmTags(set)}); err != nil {
			return nil, classify(err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.api.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(id), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	actual, exists, err := h.Read(ctx, id, desired)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("parameter %s disappeared during update", id)
	}
	return actual, nil
}

func (h *ssmParameter) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(id)})
	if err != nil && !isSSMNotFound(err) {
		return classify(err)
	}
	return nil
}
