package planner

import (
	"context"
	"errors"
)

// Attrs is a resource's attribute set. Values are JSON-compatible: string, bool,
// int64 (whole numbers; Norm converts float64/int/json.Number), []any and
// map[string]any. The zero value of a missing attribute is "absent", not "".
//
// Before Create/Update is called, every value is known. In a desired Attrs built
// at plan time a value may be a Ref (the producer's computed attribute, known
// only once it exists); the executor resolves Refs before calling a Handler.
type Attrs map[string]any

// Ref is a value that is another resource's attribute, e.g. a role's arn used by
// a function. It is resolved during apply once its producer exists.
type Ref struct {
	Resource ResourceAddr
	Attr     string
}

// ResourceAddr names one provider resource: the spec block it came from, its
// type, and a local name that tells apart several resources of the same type
// lowered from one block (often "main"). String() gives
// "trigger.uploads/aws_lambda_permission.main".
type ResourceAddr struct {
	Block string // spec address, e.g. "trigger.uploads"
	Type  string // e.g. "aws_lambda_permission"
	Name  string
}

func (a ResourceAddr) String() string { return a.Block + "/" + a.Type + "." + a.Name }

// Schema describes one resource type. It is the only source of the planner's
// knowledge about a type: what forces replacement, what the provider computes,
// what holds data.
type Schema struct {
	Type string

	// ForceNew lists attributes whose change cannot be applied in place: the
	// resource is replaced (delete + create, or create + delete).
	ForceNew []string

	// Computed lists attributes the provider sets (arn, url, id...). They are
	// never compared against desired values; Create and Read return them.
	Computed []string

	// WriteOnly lists inputs the service never reports back (a local package
	// path, a zip's location). They are not compared with what Read returns;
	// the value last applied is kept (drift is only what the service reports).
	WriteOnly []string

	// NoDiff lists inputs that never make a change by themselves: they are
	// passed to Create and Update but not compared (a package's local path,
	// whose content another attribute such as code_sha256 already compares).
	NoDiff []string

	// HoldsData marks types whose deletion or replacement loses user data
	// (bucket, table, queue, stream): apply refuses it without --allow-data-loss.
	HoldsData bool

	// DataWhen, when set, narrows HoldsData to resources whose boolean
	// attribute of that name, as last read, is true: a secret container
	// without a value loses nothing when deleted.
	DataWhen string

	// TagsAfterCreate marks types whose ownership tags are set by a call
	// after the create (or dropped by some endpoints when passed with it):
	// an apply killed in between leaves the resource untagged, so an
	// untagged one may still be adopted on the word of this deployment's
	// journal (see ownership.go). Every other tagged type is adopted only
	// with its tags.
	TagsAfterCreate bool

	// ForeignParent marks untagged types that live inside something that is
	// not evdeploy's (a record in the user's Route 53 zone): no parent
	// vouches for what is found under the name, so a collision is someone
	// else's, and only the journal of an earlier apply (with every desired
	// attribute matching) lets a found one be adopted.
	ForeignParent bool

	// CreateBeforeDestroy: when a block's resources of this type move to a
	// new address (a domain's name changed), the old ones are deleted only
	// after the new ones of the same block and type exist, so the new
	// domain serves before the old one goes.
	CreateBeforeDestroy bool
}

// Claimer is implemented by handlers of types whose names live in a space
// evdeploy shares with others (a custom domain name, a DNS record). Claimed
// reports, before any write, that what a planned create would make is already
// taken by something evdeploy did not make ("" when free or evdeploy's).
type Claimer interface {
	Claimed(ctx context.Context, desired Attrs) (why string, err error)
}

// holdsData reports whether deleting or replacing a resource of sch, last
// seen as before, loses data.
func (s Schema) holdsData(before Attrs) bool {
	if !s.HoldsData {
		return false
	}
	if s.DataWhen != "" && before != nil {
		if v, ok := before[s.DataWhen].(bool); ok && !v {
			return false
		}
	}
	return true
}

// Handler manages one resource type against a cloud API.
//
// Rules every implementation keeps:
//   - Read never modifies anything. A resource that does not exist is reported
//     as (nil, ErrNotFound-free) exists=false, never as an error.
//   - Read returns only what the service reports. An attribute the service does
//     not return is left out (not zeroed), so the planner keeps the last
//     applied value instead of seeing drift.
//   - Create may be retried: if a resource with the same deterministic name
//     already exists and was created by this deployment (the caller says so by
//     calling Adopt first), it is not created twice.
//   - Delete of a resource that is already gone succeeds.
//   - Errors are returned unwrapped; the executor wraps them with the address.
type Handler interface {
	Schema() Schema

	// Read observes the resource with physical id id. prior is the state's last
	// applied attributes (nil when unknown), for types whose read needs them.
	Read(ctx context.Context, id string, prior Attrs) (actual Attrs, exists bool, err error)

	// Create makes the resource from fully known desired attributes and returns
	// its physical id and its attributes as the service now reports them
	// (including every Computed attribute).
	Create(ctx context.Context, desired Attrs) (id string, actual Attrs, err error)

	// Update changes the resource in place from prior to desired (only
	// non-ForceNew attributes differ) and returns the new attributes.
	Update(ctx context.Context, id string, prior, desired Attrs) (actual Attrs, err error)

	// Delete removes the resource; gone already is success.
	Delete(ctx context.Context, id string, prior Attrs) error
}

// Finder is implemented by handlers whose physical id is not derivable from the
// desired attributes (an event source mapping's UUID, an API's id). Find looks
// up a resource that matches desired's identity (its deterministic name, or its
// function + source), so an interrupted create journaled in state can be
// adopted instead of orphaned.
type Finder interface {
	Find(ctx context.Context, desired Attrs) (id string, actual Attrs, found bool, err error)
}

// Prefetcher is implemented by handlers whose service can report, in one list
// call, what Read would ask one call each for (DescribeLogGroups by name
// prefix). Refresh calls Prefetch once with the ids in state of the type
// before reading them; each Read that follows may answer from what was
// fetched, once (an entry is used by one Read, so nothing stale outlives the
// refresh). A failed Prefetch is ignored: the reads then make their own calls.
type Prefetcher interface {
	Prefetch(ctx context.Context, ids []string) error
}

// Registry maps a resource type to its handler. providers/aws builds one.
type Registry map[string]Handler

// Retryable errors: a handler returns an error that wraps one of these when the
// call may succeed if retried later. The executor retries them with jittered,
// bounded backoff and, when it gives up, says what it was waiting for.
var (
	// ErrThrottled: the service asked us to slow down.
	ErrThrottled = errors.New("throttled")
	// ErrPropagating: a dependency exists but is not yet visible to the
	// service (IAM role not assumable yet, mapping role cannot read its source).
	ErrPropagating = errors.New("waiting for IAM propagation")
)

// ErrAlreadyExists is wrapped by Create when a resource with the desired name
// exists but evdeploy has no record of creating it. The planner never adopts such
// a resource silently.
var ErrAlreadyExists = errors.New("already exists and is not managed by this deployment")

// ErrCreateSent is wrapped by the Create of a TagsAfterCreate type when it
// fails after its own pre-create check found the name free and the create
// call was sent: the resource may exist (the answer was lost, or a later call
// of the Create failed) and, if so, it is this create's. A retry of the
// Create by the executor that then collides with an untagged resource of the
// same identity adopts it instead of calling it someone else's (ownership.go).
var ErrCreateSent = errors.New("create sent")
