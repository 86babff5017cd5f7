package spec

import (
	"math"
	"regexp"

	"github.com/hashicorp/hcl/v2"
)

// Settings of a function beyond its code and size (issue 14): layers,
// reserved concurrency, tracing, ephemeral storage, VPC and function URL.

// Lambda's limits for these settings.
const (
	MaxLayers              = 5
	DefaultEphemeral       = 512
	MinEphemeral           = 512
	MaxEphemeral           = 10240
	MaxVPCSubnets          = 16
	MaxVPCSecurityGroups   = 5
	URLAuthNone            = "NONE"
	URLAuthIAM             = "AWS_IAM"
	functionSettingsMaxInt = math.MaxInt32
)

var (
	// layerARNRE is a layer version ARN, as CreateFunction's Layers take them.
	layerARNRE    = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[a-zA-Z0-9_-]{1,140}:[0-9]+$`)
	subnetIDRE    = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	securityGrpRE = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
)

var functionVPCSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "subnet_ids", Required: true},
		{Name: "security_group_ids", Required: true},
	},
}

var functionURLSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "auth"}},
}

// FunctionVPC is a function's `vpc` block: the subnets and security groups
// its network interfaces are placed in.
type FunctionVPC struct {
	SubnetIDs        []string
	SecurityGroupIDs []string
	Range            hcl.Range
}

// FunctionURL is a function's `url` block: an HTTPS endpoint of its own.
type FunctionURL struct {
	Auth  string // NONE (public) or AWS_IAM (SigV4-signed callers)
	Range hcl.Range
}

// functionSettings decodes the settings attributes of a function block.
func (d *decoder) functionSettings(fn *Function, a hcl.Attributes) {
	fn.EphemeralStorage = d.integer(a, "ephemeral_storage", DefaultEphemeral, MinEphemeral, MaxEphemeral, "MB")
	fn.Tracing = d.boolean(a, "tracing", false)
	if a["reserved_concurrency"] != nil {
		// AWS also checks it against the account's concurrency quota
		// (default 1000, of which 100 always stay unreserved).
		n := d.integer(a, "reserved_concurrency", -1, 0, functionSettingsMaxInt, "")
		if n >= 0 {
			fn.ReservedConcurrency = &n
		}
	}
	if attr := a["layers"]; attr != nil && readsLayer(attr.Expr) {
		refs, literal, ok := d.layerList(attr)
		if !ok {
			d.errorf(attr.Expr.Range(), "Invalid layer", "\"layers\" is a list of layer version ARNs and layer.<name>.arn references, like [layer.deps.arn].")
			return
		}
		fn.LayerRefs, fn.Layers = refs, literal
		fn.LayersExpr = attr.Expr
	} else if attr != nil {
		layers := d.strList(a, "layers")
		seen := map[string]bool{}
		for _, l := range layers {
			switch {
			case !layerARNRE.MatchString(l):
				d.errorf(attr.Expr.Range(), "Invalid layer", "A layer is a layer version ARN, like \"arn:aws:lambda:us-east-1:123456789012:layer:deps:3\"; got %q.", l)
				return
			case seen[l]:
				d.errorf(attr.Expr.Range(), "Invalid layer", "Layer %q is listed twice.", l)
				return
			}
			seen[l] = true
		}
		if len(layers) > MaxLayers {
			d.errorf(attr.Expr.Range(), "Too many layers", "Lambda allows at most %d layers per function; got %d.", MaxLayers, len(layers))
			return
		}
		fn.Layers = layers
	}
}

// functionBlock decodes a function's vpc or url block; it reports whether
// the block was one of them.
func (d *decoder) functionBlock(fn *Function, b *hcl.Block) bool {
	switch b.Type {
	case "vpc":
		if fn.VPC != nil {
			d.errorf(b.DefRange, "Duplicate vpc block", "%s already has a vpc block at %s; a function has one.", fn.Addr, fn.VPC.Range)
			return true
		}
		c := d.content(b.Body, functionVPCSchema)
		v := &FunctionVPC{Range: b.DefRange}
		v.SubnetIDs = d.idList(c.Attributes, "subnet_ids", subnetIDRE, "subnet-0123456789abcdef0", MaxVPCSubnets)
		v.SecurityGroupIDs = d.idList(c.Attributes, "security_group_ids", securityGrpRE, "sg-0123456789abcdef0", MaxVPCSecurityGroups)
		fn.VPC = v
		return true
	case "url":
		if fn.URL != nil {
			d.errorf(b.DefRange, "Duplicate url block", "%s already has a url block at %s; a function has one.", fn.Addr, fn.URL.Range)
			return true
		}
		c := d.content(b.Body, functionURLSchema)
		auth := d.enum(c.Attributes, "auth", "iam", []string{"none", "iam"})
		fn.URL = &FunctionURL{Auth: URLAuthIAM, Range: b.DefRange}
		if auth == "none" {
			fn.URL.Auth = URLAuthNone
		}
		return true
	}
	return false
}

// idList decodes a non-empty list of at most max distinct ids matching re.
func (d *decoder) idList(a hcl.Attributes, name string, re *regexp.Regexp, example string, max int) []string {
	attr := a[name]
	if attr == nil {
		return nil
	}
	ids := d.strList(a, name)
	if ids == nil {
		return nil
	}
	if len(ids) == 0 || len(ids) > max {
		d.errorf(attr.Expr.Range(), "Invalid value", "%q must list 1 to %d ids; got %d.", name, max, len(ids))
		return nil
	}
	seen := map[string]bool{}
	for _, id := range ids {
		switch {
		case !re.MatchString(id):
			d.errorf(attr.Expr.Range(), "Invalid value", "%q: %q is not an id like %q.", name, id, example)
			return nil
		case seen[id]:
			d.errorf(attr.Expr.Range(), "Invalid value", "%q lists %q twice.", name, id)
			return nil
		}
		seen[id] = true
	}
	return ids
}

// readsLayer reports whether expr reads a layer block (layer.deps.arn).
func readsLayer(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() == KindLayer {
			return true
		}
	}
	return false
}
