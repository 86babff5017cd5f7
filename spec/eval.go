package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evaluator is filled in by Load: variables, locals and the function table.
// (The spec implementation owns its fields.)
type evaluator struct{}

// RefAttrs lists, per block kind, the attributes a reference may read
// (queue.orders.url). Every other attribute name is a validation error. The
// planner supplies their values to Eval: known ones as known values, the rest
// as cty.UnknownVal(cty.String).
var RefAttrs = map[string][]string{
	KindFunction: {"arn", "name", "role_arn"},
	KindQueue:    {"arn", "url", "name", "dlq_arn", "dlq_url"},
	KindTopic:    {"arn", "name"},
	KindBus:      {"arn", "name"},
	KindBucket:   {"arn", "name"},
	KindTable:    {"arn", "name", "stream_arn"},
	KindStream:   {"arn", "name"},
	KindAPI:      {"id", "url", "arn"},
}

// Capabilities lists, per block kind, the capability names `uses` may grant
// (queue.orders.send). The planner maps each to an IAM action set.
var Capabilities = map[string][]string{
	KindQueue:    {"send", "consume"},
	KindTopic:    {"publish"},
	KindBus:      {"put"},
	KindBucket:   {"read", "write"},
	KindTable:    {"read", "write"},
	KindStream:   {"put", "read"},
	KindFunction: {"invoke"},
}

// Eval evaluates an expression taken from the App (a function's Environment, an
// output's Value) with the App's variables, locals and functions, and with each
// block reference resolved from blocks: blocks[queue.orders]["url"]. A missing
// block or attribute evaluates as unknown, so the result may be partly unknown
// (the planner renders that as "(known after apply)").
func (a *App) Eval(expr hcl.Expression, blocks map[Addr]map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	panic("spec: Eval not implemented yet")
}
