package spec

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// MaxLayerRuntimes is how many compatible runtimes PublishLayerVersion takes.
const MaxLayerRuntimes = 15

var layerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "source", Required: true}, {Name: "runtimes", Required: true}},
}

// layer decodes a layer block: a folder evdeploy zips as laid out and
// publishes as a Lambda layer version.
func (d *decoder) layer(addr Addr, b *hcl.Block) *Layer {
	c := d.content(b.Body, layerSchema)
	l := &Layer{Addr: addr, DeclRange: b.DefRange}
	a := c.Attributes
	if attr := a["source"]; attr != nil {
		src := d.str(a, "source", "")
		path := src
		if !filepath.IsAbs(path) {
			path = filepath.Join(d.dir, path)
		}
		st, err := os.Stat(path)
		switch {
		case src == "":
			d.errorf(attr.Expr.Range(), "Invalid value", "\"source\" must name the layer's folder, like \"./layers/%s\".", addr.Name)
		case err != nil:
			d.errorf(attr.Expr.Range(), "Source folder not found", "The layer folder %q does not exist (looked for %s).", src, filepath.Join(d.relDir, src))
		case !st.IsDir():
			d.errorf(attr.Expr.Range(), "Source is not a folder", "%q is a file; \"source\" names the folder zipped into the layer (python/... or nodejs/node_modules/...).", src)
		default:
			l.Source = filepath.Clean(path)
		}
	}
	if attr := a["runtimes"]; attr != nil {
		rts := d.strList(a, "runtimes")
		switch {
		case len(rts) == 0 && attr != nil:
			d.errorf(attr.Expr.Range(), "Invalid value", "A layer lists the runtimes it works with, like [\"python3.12\"].")
		case len(rts) > MaxLayerRuntimes:
			d.errorf(attr.Expr.Range(), "Too many runtimes", "A layer version lists at most %d runtimes; got %d.", MaxLayerRuntimes, len(rts))
		}
		seen := map[string]bool{}
		for _, rt := range rts {
			if rt == "go" || !slices.Contains(Runtimes, rt) {
				d.errorf(attr.Expr.Range(), "Unsupported runtime", "A layer runtime is a Lambda runtime (%s); got %q.", "python3.12, nodejs22.x, provided.al2023, ...", rt)
				return l
			}
			if seen[rt] {
				d.errorf(attr.Expr.Range(), "Invalid value", "Runtime %q is listed twice.", rt)
				return l
			}
			seen[rt] = true
		}
		l.Runtimes = rts
	}
	return l
}

// layerList decodes a function's layers: literal layer version ARNs and
// layer.<name>.arn references, in order. It returns the referenced layers;
// when there are any, the planner evaluates the expression once they are
// published.
func (d *decoder) layerList(attr *hcl.Attribute) (refs []Addr, literal []string, ok bool) {
	tup, isTuple := attr.Expr.(*hclsyntax.TupleConsExpr)
	if !isTuple {
		return nil, nil, false
	}
	seen := map[string]bool{}
	for _, e := range tup.Exprs {
		if st, isRef := e.(*hclsyntax.ScopeTraversalExpr); isRef && st.Traversal.RootName() == KindLayer {
			addrs, _, good := d.refs(e)
			if !good {
				return nil, nil, true
			}
			if len(addrs) != 1 || len(st.Traversal) != 3 {
				d.errorf(e.Range(), "Invalid layer", "A layer reference reads its arn, like layer.%s.arn.", addrs[0].Name)
				return nil, nil, true
			}
			if seen[addrs[0].String()] {
				d.errorf(e.Range(), "Invalid layer", "Layer %s is listed twice.", addrs[0])
				return nil, nil, true
			}
			seen[addrs[0].String()] = true
			refs = append(refs, addrs[0])
			continue
		}
		v, diags := e.Value(d.ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
			if !diags.HasErrors() {
				d.errorf(e.Range(), "Invalid layer", "A layer is a layer version ARN or a reference like layer.deps.arn.")
			}
			d.diags = append(d.diags, diags...)
			return nil, nil, true
		}
		s := v.AsString()
		if !layerARNRE.MatchString(s) {
			d.errorf(e.Range(), "Invalid layer", "A layer is a layer version ARN, like \"arn:aws:lambda:us-east-1:123456789012:layer:deps:3\", or a reference like layer.deps.arn; got %q.", s)
			return nil, nil, true
		}
		if seen[s] {
			d.errorf(e.Range(), "Invalid layer", "Layer %q is listed twice.", s)
			return nil, nil, true
		}
		seen[s] = true
		literal = append(literal, s)
	}
	if len(tup.Exprs) > MaxLayers {
		d.errorf(attr.Expr.Range(), "Too many layers", "Lambda allows at most %d layers per function; got %d.", MaxLayers, len(tup.Exprs))
	}
	return refs, literal, true
}
