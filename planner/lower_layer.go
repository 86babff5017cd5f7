package planner

import (
	"slices"

	"github.com/evdeploy/evdeploy/spec"
)

// TypeLayer is a published layer version; its physical id is the version
// ARN. Any change (content, runtimes) publishes a new version and deletes the
// one it supersedes, so destroy leaves no version behind.
const TypeLayer = "aws_lambda_layer_version"

func (l *lowering) layerName(x *spec.Layer) string {
	return l.name(ruleLambda, x.Addr, "", "")
}

// layer adds a layer block's version; functions read its arn (a Ref, known
// once it is published), so a new version is followed by their update.
func (l *lowering) layer(x *spec.Layer) {
	name := l.layerName(x)
	attrs := Attrs{
		"layer_name":          name,
		"compatible_runtimes": Norm(slices.Sorted(slices.Values(x.Runtimes))),
		"description":         "evdeploy: " + x.Addr.String() + " (" + l.app.Name + ", stage " + l.app.Stage + ")",
	}
	if pkg := l.opts.Packages[x.Addr]; pkg != nil {
		attrs["code_sha256"] = pkg.SHA256
		attrs["code_path"] = pkg.Path
	}
	addr := l.add(x.Addr, TypeLayer, "main", attrs, name, "")
	l.blockAttrs[x.Addr] = map[string]any{"arn": Ref{Resource: addr, Attr: "arn"}}
}
