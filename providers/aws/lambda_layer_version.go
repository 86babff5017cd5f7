package aws

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// layerAPI is the part of the Lambda API the layer version handler uses.
type layerAPI interface {
	PublishLayerVersion(context.Context, *lambda.PublishLayerVersionInput, ...func(*lambda.Options)) (*lambda.PublishLayerVersionOutput, error)
	GetLayerVersion(context.Context, *lambda.GetLayerVersionInput, ...func(*lambda.Options)) (*lambda.GetLayerVersionOutput, error)
	ListLayerVersions(context.Context, *lambda.ListLayerVersionsInput, ...func(*lambda.Options)) (*lambda.ListLayerVersionsOutput, error)
	DeleteLayerVersion(context.Context, *lambda.DeleteLayerVersionInput, ...func(*lambda.Options)) (*lambda.DeleteLayerVersionOutput, error)
}

// lambdaLayerVersion manages aws_lambda_layer_version; its physical id is the
// version ARN. A version is immutable, so every attribute forces a new one
// (published before the old one is deleted: superseded versions are not
// kept, and destroy leaves none).
type lambdaLayerVersion struct{ api layerAPI }

func newLambdaLayerVersion(c *clients) *lambdaLayerVersion {
	return &lambdaLayerVersion{api: c.lambda}
}

func (*lambdaLayerVersion) Schema() planner.Schema {
	return planner.Schema{
		Type:     "aws_lambda_layer_version",
		ForceNew: []string{"layer_name", "compatible_runtimes", "code_sha256", "description"},
		Computed: []string{"arn", "version"},
		// code_path is where the zip is on this machine: code_sha256
		// compares the content.
		NoDiff: []string{"code_path"},
	}
}

func (h *lambdaLayerVersion) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	name, version, ok := splitLayerVersionARN(id)
	if !ok {
		return nil, false, fmt.Errorf("layer version %q: not a layer version ARN", id)
	}
	// GetLayerVersion rather than GetLayerVersionByArn: moto has only the
	// former.
	out, err := h.api.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(version)})
	if isLambdaNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	return layerAttrs(aws.ToString(out.LayerArn), aws.ToString(out.LayerVersionArn), out.Version, aws.ToString(out.Description), out.CompatibleRuntimes, out.Content), true, nil
}

func layerAttrs(layerArn, versionArn string, version int64, desc string, rts []lambdatypes.Runtime, content *lambdatypes.LayerVersionContentOutput) planner.Attrs {
	name := layerArn
	if i := lastColon(layerArn); i >= 0 {
		name = layerArn[i+1:]
	}
	sorted := stringsAttr(rts)
	slices.SortFunc(sorted, func(x, y any) int { return cmpString(x.(string), y.(string)) })
	a := planner.Attrs{
		"layer_name":          name,
		"arn":                 versionArn,
		"version":             version,
		"description":         desc,
		"compatible_runtimes": sorted,
	}
	if content != nil {
		a["code_sha256"] = aws.ToString(content.CodeSha256)
	}
	return a
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

func (h *lambdaLayerVersion) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("layer_name")
	zip, err := os.ReadFile(desired.String("code_path"))
	if err != nil {
		return "", nil, fmt.Errorf("layer %s: reading its package: %w", name, err)
	}
	var rts []lambdatypes.Runtime
	for _, r := range desired.Strings("compatible_runtimes") {
		rts = append(rts, lambdatypes.Runtime(r))
	}
	out, err := h.api.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
		LayerName:          aws.String(name),
		Description:        aws.String(desired.String("description")),
		CompatibleRuntimes: rts,
		Content:            &lambdatypes.LayerVersionContentInput{ZipFile: zip},
	})
	if err != nil {
		return "", nil, fmt.Errorf("layer %s: publishing a version: %w", name, classify(err))
	}
	id := aws.ToString(out.LayerVersionArn)
	return id, layerAttrs(aws.ToString(out.LayerArn), id, out.Version, aws.ToString(out.Description), out.CompatibleRuntimes, out.Content), nil
}

// Find adopts the newest version of the layer with desired's content and
// runtimes: a publish whose answer was lost (the run stopped before state
// recorded its ARN) is this deployment's, not an orphan.
func (h *lambdaLayerVersion) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	name := desired.String("layer_name")
	p := lambda.NewListLayerVersionsPaginator(h.api, &lambda.ListLayerVersionsInput{LayerName: aws.String(name)})
	var best planner.Attrs
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isLambdaNotFound(err) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, v := range page.LayerVersions {
			a, exists, err := h.Read(ctx, aws.ToString(v.LayerVersionArn), nil)
			if err != nil {
				return "", nil, false, err
			}
			if !exists || a.String("code_sha256") != desired.String("code_sha256") ||
				!slices.Equal(a.Strings("compatible_runtimes"), desired.Strings("compatible_runtimes")) {
				continue
			}
			if best == nil || a["version"].(int64) > best["version"].(int64) {
				best = a
			}
		}
	}
	if best == nil {
		return "", nil, false, nil
	}
	return best.String("arn"), best, true, nil
}

func (h *lambdaLayerVersion) Update(ctx context.Context, id string, _, _ planner.Attrs) (planner.Attrs, error) {
	// Every attribute is ForceNew: nothing changes in place.
	a, _, err := h.Read(ctx, id, nil)
	return a, err
}

func (h *lambdaLayerVersion) Delete(ctx context.Context, id string, prior planner.Attrs) error {
	name, version, ok := splitLayerVersionARN(id)
	if !ok {
		return fmt.Errorf("layer version %q: not a layer version ARN", id)
	}
	_, err := h.api.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(version)})
	if err != nil && !isLambdaNotFound(err) {
		return fmt.Errorf("layer %s version %d: deleting: %w", name, version, classify(err))
	}
	return nil
}

// splitLayerVersionARN splits arn:aws:lambda:<region>:<account>:layer:<name>:<version>.
func splitLayerVersionARN(arn string) (name string, version int64, ok bool) {
	i := lastColon(arn)
	if i < 0 {
		return "", 0, false
	}
	if _, err := fmt.Sscanf(arn[i+1:], "%d", &version); err != nil {
		return "", 0, false
	}
	rest := arn[:i]
	j := lastColon(rest)
	if j < 0 || !slices.Contains([]string{"layer"}, lastField(rest[:j])) {
		return "", 0, false
	}
	return rest[j+1:], version, true
}

func lastField(s string) string { return s[lastColon(s)+1:] }

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
