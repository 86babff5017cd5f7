package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/evdeploy/evdeploy/planner"
)

// acmAPI is the part of ACM the certificate handlers use.
type acmAPI interface {
	RequestCertificate(context.Context, *acm.RequestCertificateInput, ...func(*acm.Options)) (*acm.RequestCertificateOutput, error)
	DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
	ListTagsForCertificate(context.Context, *acm.ListTagsForCertificateInput, ...func(*acm.Options)) (*acm.ListTagsForCertificateOutput, error)
	AddTagsToCertificate(context.Context, *acm.AddTagsToCertificateInput, ...func(*acm.Options)) (*acm.AddTagsToCertificateOutput, error)
	RemoveTagsFromCertificate(context.Context, *acm.RemoveTagsFromCertificateInput, ...func(*acm.Options)) (*acm.RemoveTagsFromCertificateOutput, error)
	DeleteCertificate(context.Context, *acm.DeleteCertificateInput, ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error)
}

// acmCertificate manages aws_acm_certificate: a certificate evdeploy
// requests for one domain name with DNS validation, tagged as evdeploy's,
// id = its ARN. A certificate the user names (domain { certificate = … })
// is never a resource: evdeploy neither requests nor touches it.
type acmCertificate struct {
	api acmAPI
	// recordWait bounds the wait for ACM to publish the validation record
	// after the request (it takes seconds on AWS).
	recordWait time.Duration
	// inUseWait bounds the wait for a deleted domain name to let go of the
	// certificate (ResourceInUseException right after).
	inUseWait time.Duration
}

func newACMCertificate(c *clients) planner.Handler {
	return &acmCertificate{api: c.acm, recordWait: 2 * time.Minute, inUseWait: 5 * time.Minute}
}

var _ planner.Finder = (*acmCertificate)(nil)

func (h *acmCertificate) Schema() planner.Schema {
	return planner.Schema{
		Type:                "aws_acm_certificate",
		ForceNew:            []string{"domain_name", "validation_method"},
		Computed:            []string{"arn", "status", "validation_record_name", "validation_record_type", "validation_record_value"},
		CreateBeforeDestroy: true,
	}
}

func acmNotFound(err error) bool { return hasCode(err, "ResourceNotFoundException") }

// acmTagsUnsupported: kumo's ACM has no tagging calls (it answers
// ValidationException "Unknown operation"); AWS always has them.
func acmTagsUnsupported(err error) bool {
	return hasCode(err, "ValidationException", "InvalidAction", "UnknownOperationException") &&
		strings.Contains(strings.ToLower(err.Error()), "unknown operation")
}

// describe reads a certificate's attributes; ok false when it is gone.
func (h *acmCertificate) describe(ctx context.Context, arn string) (planner.Attrs, *acmtypes.CertificateDetail, bool, error) {
	out, err := h.api.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if acmNotFound(err) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, classify(err)
	}
	c := out.Certificate
	a := planner.Attrs{
		"arn":               aws.ToString(c.CertificateArn),
		"domain_name":       fqdn(aws.ToString(c.DomainName)),
		"status":            string(c.Status),
		"validation_method": "DNS",
	}
	for _, o := range c.DomainValidationOptions {
		if o.ValidationMethod != "" {
			a["validation_method"] = string(o.ValidationMethod)
		}
		if r := o.ResourceRecord; r != nil && fqdn(aws.ToString(o.DomainName)) == a.String("domain_name") {
			a["validation_record_name"] = fqdn(aws.ToString(r.Name))
			a["validation_record_type"] = string(r.Type)
			a["validation_record_value"] = fqdn(aws.ToString(r.Value))
		}
	}
	return a, c, true, nil
}

func (h *acmCertificate) tags(ctx context.Context, arn string) (map[string]string, bool, error) {
	out, err := h.api.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		if acmTagsUnsupported(err) {
			return nil, false, nil
		}
		return nil, false, classify(err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, true, nil
}

func (h *acmCertificate) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	a, _, ok, err := h.describe(ctx, id)
	if err != nil || !ok {
		return nil, false, err
	}
	if tags, reported, err := h.tags(ctx, id); err != nil {
		return nil, false, err
	} else if reported {
		setMap(a, "tags", tags)
	}
	return a, true, nil
}

// idempotencyToken makes a retried request (its answer lost) return the
// first request's certificate: ACM keeps a token for an hour. It is derived
// from the domain and the ownership tags, so a later apply after a delete
// gets a new one only once the hour has passed (ACM then issues a new ARN).
func idempotencyToken(desired planner.Attrs) string {
	tags := desired.StringMap("tags")
	sum := sha256.Sum256([]byte(desired.String("domain_name") + "\x00" + tags["evdeploy:app"] + "\x00" + tags["evdeploy:stage"] + "\x00" + tags["evdeploy:block"]))
	return hex.EncodeToString(sum[:])[:32]
}

func acmTags(m map[string]string) []acmtypes.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []acmtypes.Tag
	for _, k := range keys {
		out = append(out, acmtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (h *acmCertificate) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	out, err := h.api.RequestCertificate(ctx, &acm.RequestCertificateInput{
		DomainName:       aws.String(desired.String("domain_name")),
		ValidationMethod: acmtypes.ValidationMethodDns,
		IdempotencyToken: aws.String(idempotencyToken(desired)),
		Tags:             acmTags(desired.StringMap("tags")),
	})
	if err != nil {
		return "", nil, classify(err)
	}
	arn := aws.ToString(out.CertificateArn)
	a, err := h.awaitRecord(ctx, arn)
	if err != nil {
		return arn, nil, err
	}
	if tags, reported, err := h.tags(ctx, arn); err != nil {
		return arn, nil, err
	} else if reported {
		setMap(a, "tags", tags)
	}
	return arn, a, nil
}

// awaitRecord waits for ACM to publish the DNS validation record, which it
// does seconds after the request.
func (h *acmCertificate) awaitRecord(ctx context.Context, arn string) (planner.Attrs, error) {
	var a planner.Attrs
	err := waitFor(ctx, "certificate "+arn+" to publish its DNS validation record", 2*time.Second, h.recordWait, func(ctx context.Context) (bool, error) {
		got, _, ok, err := h.describe(ctx, arn)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("certificate %s disappeared", arn)
		}
		a = got
		return got.String("validation_record_name") != "", nil
	})
	return a, err
}

func (h *acmCertificate) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(remove) > 0 {
		var tags []acmtypes.Tag
		for _, k := range remove {
			tags = append(tags, acmtypes.Tag{Key: aws.String(k)})
		}
		if _, err := h.api.RemoveTagsFromCertificate(ctx, &acm.RemoveTagsFromCertificateInput{CertificateArn: aws.String(id), Tags: tags}); err != nil {
			return nil, classify(err)
		}
	}
	if len(set) > 0 {
		if _, err := h.api.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(id), Tags: acmTags(set)}); err != nil {
			return nil, classify(err)
		}
	}
	a, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("certificate %s disappeared during update", id)
	}
	return a, nil
}

// Delete removes the certificate. Right after its domain name is deleted
// API Gateway may still hold it (ResourceInUseException) for a while.
func (h *acmCertificate) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	return waitFor(ctx, "API Gateway to release certificate "+id, 5*time.Second, h.inUseWait, func(ctx context.Context) (bool, error) {
		_, err := h.api.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(id)})
		switch {
		case err == nil || acmNotFound(err):
			return true, nil
		case hasCode(err, "ResourceInUseException"):
			planner.Progress(ctx, "certificate still in use by API Gateway")
			return false, nil
		}
		return false, classify(err)
	})
}

// Find looks for the certificate an interrupted apply requested: same domain
// name and evdeploy's tags (where the service reports tags).
func (h *acmCertificate) Find(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, bool, error) {
	name := desired.String("domain_name")
	ours := planner.OwnershipTags(desired)
	var matches []string
	var token *string
	for {
		out, err := h.api.ListCertificates(ctx, &acm.ListCertificatesInput{NextToken: token})
		if err != nil {
			return "", nil, false, classify(err)
		}
		for _, s := range out.CertificateSummaryList {
			if fqdn(aws.ToString(s.DomainName)) != name {
				continue
			}
			arn := aws.ToString(s.CertificateArn)
			tags, reported, err := h.tags(ctx, arn)
			if err != nil {
				return "", nil, false, err
			}
			if reported && tagsInclude(tags, ours) {
				matches = append(matches, arn)
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			break
		}
	}
	switch len(matches) {
	case 0:
		return "", nil, false, nil
	case 1:
		a, ok, err := h.Read(ctx, matches[0], nil)
		return matches[0], a, ok, err
	}
	sort.Strings(matches)
	return "", nil, false, fmt.Errorf("finding the certificate for %q: %d carry its evdeploy tags (%s); delete the extra ones", name, len(matches), strings.Join(matches, ", "))
}
