package aws

import (
	"context"
	"fmt"
	"time"

	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/evdeploy/evdeploy/planner"
)

// acmCertificateValidation manages aws_acm_certificate_validation: not an
// AWS resource but the wait until a requested certificate is ISSUED, after
// its validation record is written. id = the certificate's ARN. Nothing is
// deleted with it.
type acmCertificateValidation struct {
	cert *acmCertificate
	// timeout is how long ACM gets to see the record (AWS: usually minutes;
	// evdeploy gives up after 30), interval how often it is asked.
	timeout, interval time.Duration
}

func newACMCertificateValidation(c *clients) planner.Handler {
	return &acmCertificateValidation{cert: &acmCertificate{api: c.acm}, timeout: 30 * time.Minute, interval: 5 * time.Second}
}

func (h *acmCertificateValidation) Schema() planner.Schema {
	return planner.Schema{
		Type:                "aws_acm_certificate_validation",
		ForceNew:            []string{"certificate_arn"},
		Computed:            []string{"status"},
		CreateBeforeDestroy: true,
	}
}

// Read reports the wait as done while the certificate is ISSUED; a
// certificate no longer issued (expired, revoked) makes the plan wait again.
func (h *acmCertificateValidation) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	a, _, ok, err := h.cert.describe(ctx, id)
	if err != nil || !ok {
		return nil, false, err
	}
	if a.String("status") != string(acmtypes.CertificateStatusIssued) {
		return nil, false, nil
	}
	out := planner.Attrs{"certificate_arn": id, "status": a.String("status")}
	if prior.Has("record_fqdn") {
		out["record_fqdn"] = prior["record_fqdn"]
	}
	return out, true, nil
}

func (h *acmCertificateValidation) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	arn := desired.String("certificate_arn")
	start := time.Now()
	var last planner.Attrs
	var reported time.Time // progress goes out every 30 s, not at every poll
	err := waitFor(ctx, "certificate "+arn+" to be issued", h.interval, h.timeout, func(ctx context.Context) (bool, error) {
		a, _, ok, err := h.cert.describe(ctx, arn)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("certificate %s does not exist", arn)
		}
		last = a
		switch acmtypes.CertificateStatus(a.String("status")) {
		case acmtypes.CertificateStatusIssued:
			return true, nil
		case acmtypes.CertificateStatusPendingValidation:
			if time.Since(reported) < 30*time.Second {
				return false, nil
			}
			reported = time.Now()
			planner.Progress(ctx, fmt.Sprintf("certificate %s after %s; ACM is looking for CNAME %s → %s",
				a.String("status"), time.Since(start).Round(time.Second), a.String("validation_record_name"), a.String("validation_record_value")))
			return false, nil
		}
		return false, fmt.Errorf("certificate %s is %s; ACM will not issue it (request a new one: delete it and apply again)", arn, a.String("status"))
	})
	if err != nil {
		if last != nil && last.String("status") == string(acmtypes.CertificateStatusPendingValidation) {
			return "", nil, fmt.Errorf("%w: ACM is still waiting for the DNS record CNAME %s with value %s (check that the zone's name servers are the ones the domain's registrar delegates to)",
				err, last.String("validation_record_name"), last.String("validation_record_value"))
		}
		return "", nil, err
	}
	return arn, planner.Attrs{"certificate_arn": arn, "record_fqdn": desired["record_fqdn"], "status": last.String("status")}, nil
}

func (h *acmCertificateValidation) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	out := planner.Attrs{}
	for k, v := range prior {
		out[k] = v
	}
	out["record_fqdn"] = desired["record_fqdn"]
	return out, nil
}

// Delete: a wait leaves nothing behind.
func (h *acmCertificateValidation) Delete(context.Context, string, planner.Attrs) error { return nil }
