package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Bundle is how a function is packaged beyond zipping its folder: for Node,
// the esbuild bundle (`bundle { external = [...], sourcemap = true }`); for
// Node and Python, `bundle = false` turns bundling and dependency install off
// and zips the folder as it is. nil on a Function means the defaults.
type Bundle struct {
	Disabled  bool     // bundle = false
	External  []string // module patterns left out of the bundle; nil: the default (@aws-sdk/*), empty: none
	SourceMap bool     // add a linked source map
	Range     hcl.Range
}

var bundleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "external"},
		{Name: "sourcemap"},
	},
}

// bundle decodes the `bundle` attribute (bundle = false) or block of fn.
func (d *decoder) bundle(fn *Function, attr *hcl.Attribute, blocks []*hcl.Block) *Bundle {
	node := strings.HasPrefix(fn.Runtime, "nodejs")
	installs := node || strings.HasPrefix(fn.Runtime, "python")
	if attr != nil {
		for _, b := range blocks {
			d.errorf(b.DefRange, "Duplicate bundle settings", "bundle is already set at %s; write either bundle = false or a bundle block.", attr.Range)
		}
		on := d.boolean(hcl.Attributes{"bundle": attr}, "bundle", true)
		if fn.Runtime != "" && !installs {
			d.errorf(attr.Expr.Range(), "Bundle does not apply", "Runtime %s is neither bundled nor has its dependencies installed; remove \"bundle\".", fn.Runtime)
			return nil
		}
		if on {
			return nil // the default
		}
		return &Bundle{Disabled: true, Range: attr.Range}
	}
	if len(blocks) == 0 {
		return nil
	}
	for _, b := range blocks[1:] {
		d.errorf(b.DefRange, "Duplicate bundle block", "%s already has a bundle block at %s; a function has one.", fn.Addr, blocks[0].DefRange)
	}
	b := blocks[0]
	if fn.Runtime != "" && !node {
		d.errorf(b.DefRange, "Bundle block needs a Node runtime", "A bundle block configures esbuild for nodejs* functions; %s functions are not bundled (bundle = false turns dependency install off).", fn.Runtime)
		return nil
	}
	c := d.content(b.Body, bundleSchema)
	out := &Bundle{SourceMap: d.boolean(c.Attributes, "sourcemap", false), Range: b.DefRange}
	if ext := c.Attributes["external"]; ext != nil {
		list := d.strList(c.Attributes, "external")
		if list == nil {
			return out
		}
		for _, p := range list {
			if p == "" || strings.ContainsAny(p, " \t\n") || strings.Count(p, "*") > 1 {
				d.errorf(ext.Expr.Range(), "Invalid external module", "%q is not a module pattern; write a package name or a pattern with one *, like \"@aws-sdk/*\".", p)
				return out
			}
		}
		out.External = list
	}
	return out
}
