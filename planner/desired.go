package planner

// Desired is the lowered form of a spec: every provider resource the app needs,
// with the edges between them. Lower builds it; Diff compares it with state.
type Desired struct {
	Resources []*DesiredResource // sorted by Addr.String()
	// Outputs are the app's outputs, computed once the resources they read are
	// known.
	Outputs []*DesiredOutput
	// Secrets is the known text of every sensitive value the spec evaluates
	// (sensitive variables, sensitive()): the CLI scrubs it from anything it
	// prints that the planner did not render (an AWS error echoing a request).
	Secrets []string
}

// DesiredResource is one provider resource the spec asks for.
type DesiredResource struct {
	Addr ResourceAddr

	// Attrs are the desired attributes. A value may be a Ref or an Expr (known
	// only once a producer exists); every other value is known.
	Attrs Attrs

	// DependsOn lists ordering edges that no Ref implies (a Lambda permission
	// must exist before the S3 notification that S3 validates against it).
	// Refs and Exprs imply their own edges.
	DependsOn []ResourceAddr

	// Name is the deterministic physical name, journaled before Create so an
	// interrupted create can be found and adopted.
	Name string

	// ID is the physical id when it is known before creation (most types use
	// their name as id); "" when only the service can assign it.
	ID string

	// Sensitive names the attributes computed from a sensitive value: plans
	// show them as (sensitive), state records which they are.
	Sensitive []string
}

// DesiredOutput is an app output.
type DesiredOutput struct {
	Name      string
	Value     any // known value, Ref or Expr
	Sensitive bool
}

// Expr is a value computed from other resources' attributes once they are known
// (an environment variable "https://${api.public.id}..."). Render shows Text
// while any Ref is unknown.
type Expr struct {
	Refs []Ref
	Text string // what the user wrote, e.g. "queue.orders.url"
	// Eval computes the value from the resolved refs. It is called only when
	// every ref in Refs is known.
	Eval func(resolved map[Ref]any) (any, error)
}
