package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Block kinds, as written in HCL and in addresses.
const (
	KindFunction = "function"
	KindQueue    = "queue"
	KindTopic    = "topic"
	KindBus      = "bus"
	KindBucket   = "bucket"
	KindTable    = "table"
	KindStream   = "stream"
	KindAPI      = "api"
	KindTrigger  = "trigger"
	KindRoute    = "route"
	KindOutput   = "output"
	KindLayer    = "layer"
)

// Addr names a block: function.api, queue.orders. It is comparable and is the
// key used in maps, plans, state and every error message.
type Addr struct {
	Kind string
	Name string
}

func (a Addr) String() string { return a.Kind + "." + a.Name }

// IsZero reports whether a is the zero address.
func (a Addr) IsZero() bool { return a.Kind == "" && a.Name == "" }

// App is a loaded, validated project for one stage.
type App struct {
	Name   string
	Region string // "" when the spec does not set it
	Tags   map[string]string
	Stage  string
	Dir    string // absolute path of the project folder

	Backend *Backend // nil: local state file
	// StateEncryption encrypts state and saved plans at rest; nil: plain.
	StateEncryption *StateEncryption

	Functions []*Function // sorted by name
	Queues    []*Queue
	Topics    []*Topic
	Buses     []*Bus
	Buckets   []*Bucket
	Tables    []*Table
	Streams   []*Stream
	APIs      []*API
	Triggers  []*Trigger
	Routes    []*Route
	Outputs   []*Output
	Layers    []*Layer
	Secrets   []*Secret // secret blocks (spec/secret.go)
	// Alarms are the alarm blocks and the defaults app { alarms {} } turns
	// on, sorted by Key; AlarmDefaults is nil without that block.
	Alarms        []*Alarm
	AlarmDefaults *AlarmDefaults
	// AppOutputs are the other apps whose outputs this one reads.
	AppOutputs []*AppOutputs
	// AppOutputRefs are the references to other apps' outputs, in source
	// order: each must be an output of that app's state at plan time.
	AppOutputRefs []AppOutputRef

	// eval holds what Eval needs (variables, locals, functions); set by Load.
	eval *evaluator
}

// Backend is where state lives when it is not a local file.
type Backend struct {
	Type   string // "s3"
	Bucket string
	Key    string
	Region string
	Range  hcl.Range
}

// Capability is one `uses = [queue.orders.send]` grant.
type Capability struct {
	Target Addr   // queue.orders
	Name   string // send
	Range  hcl.Range
}

// PolicyStatement is a raw IAM statement from a function's policy block: the
// escape hatch for permissions no capability covers.
type PolicyStatement struct {
	Effect  string // Allow (default) or Deny
	Actions []string
	// Resources are the statement's ARNs when they are known at validate
	// time; nil when they read block attributes (bucket.uploads.arn). Then
	// evaluate ResourcesExpr with App.Eval to get a list of strings.
	Resources     []string
	ResourcesExpr hcl.Expression
	Range         hcl.Range
}

// Function is a `function` block.
type Function struct {
	Addr      Addr
	DeclRange hcl.Range

	PhysicalName string // explicit `name = ...`, else ""

	Runtime      string // as written: go, provided.al2023, python3.12, nodejs20.x ...
	Source       string // absolute path of the source folder
	Handler      string // "" for go (evdeploy builds bootstrap); provided.*: as written, default "bootstrap"
	Memory       int    // MB, default 128
	Timeout      time.Duration
	Architecture string // arm64 (default) or x86_64
	LogRetention int    // days, default 14

	// Environment is the `environment` map expression. Its values may refer to
	// other blocks' attributes (queue.orders.url); evaluate it with App.Eval.
	Environment hcl.Expression // nil when absent

	Uses     []Capability
	Policies []PolicyStatement
	Tags     map[string]string
	// ManagedPolicies are the IAM managed policy ARNs attached to the
	// function's role (as written, each once); nil when none.
	ManagedPolicies []string

	Layers []string // layer version ARNs, in order (when LayersExpr is nil)
	// LayersExpr is the `layers` list when it reads layer.<name>.arn: the
	// planner evaluates it once those layers are published. LayerRefs are
	// the layers it reads.
	LayersExpr          hcl.Expression
	LayerRefs           []Addr
	ReservedConcurrency *int // nil: unreserved
	Tracing             bool // X-Ray active tracing
	EphemeralStorage    int  // MB of /tmp, default 512
	VPC                 *FunctionVPC
	URL                 *FunctionURL

	// Async holds the function's asynchronous invocation settings; nil when
	// the function has no async block (Lambda's defaults apply).
	Async *Async

	// Release is the function's release block (versions, the live alias,
	// canary or linear shifting); nil: every change goes to $LATEST at once.
	Release *Release

	// Bundle holds the packaging settings (`bundle = false` or a bundle
	// block); nil for the defaults.
	Bundle *Bundle
}

// Async is a function's `async` block: how Lambda retries an asynchronous
// invocation and where it sends the outcome.
type Async struct {
	Retries   int           // 0..2, default 2
	MaxAge    time.Duration // 60s..6h, default 6h
	OnFailure Addr          // queue, topic, bus or function; zero when absent
	OnSuccess Addr
	Range     hcl.Range
}

// Queue is a `queue` block (SQS).
type Queue struct {
	Addr      Addr
	DeclRange hcl.Range

	PhysicalName      string
	FIFO              bool
	VisibilityTimeout time.Duration // default 30s
	Retention         time.Duration // default 4 days
	Delay             time.Duration // default 0
	DeadLetter        *DeadLetter
	Tags              map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
}

// DeadLetter asks evdeploy to create a DLQ for a queue and wire its redrive.
type DeadLetter struct {
	MaxReceives int           // 1..1000
	Retention   time.Duration // default 14 days
	Range       hcl.Range
}

// Topic is a `topic` block (SNS).
type Topic struct {
	Addr         Addr
	DeclRange    hcl.Range
	PhysicalName string
	FIFO         bool
	Tags         map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
}

// Bus is a `bus` block (custom EventBridge bus).
type Bus struct {
	Addr         Addr
	DeclRange    hcl.Range
	PhysicalName string
	Tags         map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
	Archive  *BusArchive // nil: no archive
}

// Bucket is a `bucket` block (S3).
type Bucket struct {
	Addr         Addr
	DeclRange    hcl.Range
	PhysicalName string // explicit names are used as is (buckets are global)
	Versioning   bool
	Lifecycle    []*LifecycleRule // sorted by name
	Tags         map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
}

// LifecycleRule is a bucket's `lifecycle` block: objects under Prefix expire
// ExpireAfter (whole days) after they are created.
type LifecycleRule struct {
	Name        string
	Prefix      string // "" = every object
	ExpireAfter time.Duration
	Range       hcl.Range
}

// Table is a `table` block (DynamoDB).
type Table struct {
	Addr         Addr
	DeclRange    hcl.Range
	PhysicalName string

	HashKey       string
	HashKeyType   string // S, N or B
	RangeKey      string // "" when absent
	RangeKeyType  string
	BillingMode   string // PAY_PER_REQUEST (default) or PROVISIONED
	ReadCapacity  int    // PROVISIONED only
	WriteCapacity int
	// StreamView is the DynamoDB StreamViewType (NEW_IMAGE, OLD_IMAGE,
	// NEW_AND_OLD_IMAGES, KEYS_ONLY) or "" for no stream.
	StreamView   string
	TTLAttribute string
	// Indexes are the global secondary indexes, sorted by name.
	Indexes             []*TableIndex
	PointInTimeRecovery bool
	Tags                map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
}

// TableIndex is an `index` block of a table: a global secondary index.
type TableIndex struct {
	Name         string
	HashKey      string
	HashKeyType  string // S, N or B
	RangeKey     string // "" when absent
	RangeKeyType string
	// Projection is ALL (default), KEYS_ONLY or INCLUDE; INCLUDE projects
	// NonKeyAttributes besides the keys.
	Projection       string
	NonKeyAttributes []string
	Range            hcl.Range
}

// Stream is a `stream` block (Kinesis data stream).
type Stream struct {
	Addr           Addr
	DeclRange      hcl.Range
	PhysicalName   string
	Shards         int // 0 when on-demand
	OnDemand       bool
	RetentionHours int // default 24
	Tags           map[string]string

	// Existing is set when the resource is made elsewhere (existing =
	// ...): only Addr and DeclRange are meaningful then.
	Existing *Existing
}

// API is an `api` block (API Gateway HTTP API).
type API struct {
	Addr         Addr
	DeclRange    hcl.Range
	PhysicalName string
	CORS         *CORS            // nil: no CORS configuration
	JWT          []*JWTAuthorizer // sorted by name
	Domain       *Domain          // nil: served at the execute-api URL only
	Tags         map[string]string
}

// Trigger is a `trigger` block: when its source emits an event, run Function.
// Exactly one of the source pointers is non-nil.
type Trigger struct {
	Addr      Addr
	DeclRange hcl.Range
	Function  Addr

	HTTP     *HTTPSource
	Queue    *QueueSource
	Topic    *TopicSource
	S3       *S3Source
	DynamoDB *StreamSource // Source is a table
	Kinesis  *StreamSource // Source is a stream
	Schedule *ScheduleSource
	Event    *EventSource
}

// SourceKind names the trigger's source block: http, queue, topic, s3,
// dynamodb, kinesis, schedule or event.
func (t *Trigger) SourceKind() string {
	switch {
	case t.HTTP != nil:
		return "http"
	case t.Queue != nil:
		return "queue"
	case t.Topic != nil:
		return "topic"
	case t.S3 != nil:
		return "s3"
	case t.DynamoDB != nil:
		return "dynamodb"
	case t.Kinesis != nil:
		return "kinesis"
	case t.Schedule != nil:
		return "schedule"
	case t.Event != nil:
		return "event"
	}
	return ""
}

// SourceAddr is the block the trigger's events come from: the api, queue,
// topic, bucket, table, stream or bus; zero for a schedule.
func (t *Trigger) SourceAddr() Addr {
	switch {
	case t.HTTP != nil:
		return t.HTTP.API
	case t.Queue != nil:
		return t.Queue.Queue
	case t.Topic != nil:
		return t.Topic.Topic
	case t.S3 != nil:
		return t.S3.Bucket
	case t.DynamoDB != nil:
		return t.DynamoDB.Source
	case t.Kinesis != nil:
		return t.Kinesis.Source
	case t.Event != nil:
		return t.Event.Bus
	}
	return Addr{}
}

// HTTPSource routes an HTTP API route to the function.
type HTTPSource struct {
	API   Addr
	Route string // "POST /orders", "ANY /{proxy+}", "$default"
	// Authorizer names one of the API's jwt blocks ("" = no authorization);
	// Scopes are the OAuth scopes a token must carry (one of them).
	Authorizer      string
	AuthorizerRange hcl.Range
	Scopes          []string
	Range           hcl.Range
}

// QueueSource polls an SQS queue.
type QueueSource struct {
	Queue          Addr
	BatchSize      int           // default 10
	BatchingWindow time.Duration // default 0
	MaxConcurrency int           // 0: unset, else 2..1000
	ReportFailures bool          // ReportBatchItemFailures
	Enabled        bool          // default true
	Range          hcl.Range
}

// TopicSource subscribes the function to an SNS topic.
type TopicSource struct {
	Topic        Addr
	FilterPolicy string // canonical JSON, "" when absent
	RawDelivery  bool   // routes to a queue only: deliver the message body as published
	Range        hcl.Range
}

// S3Source receives S3 event notifications.
type S3Source struct {
	Bucket Addr
	Events []string // full S3 event names, e.g. s3:ObjectCreated:*
	Prefix string
	Suffix string
	Range  hcl.Range
}

// StreamSource polls a DynamoDB stream (Source is a table) or a Kinesis stream.
type StreamSource struct {
	Source                Addr
	StartingPosition      string // LATEST or TRIM_HORIZON
	BatchSize             int    // default 100
	BatchingWindow        time.Duration
	MaxRetryAttempts      int // -1 (infinite, default) .. 10000
	BisectOnError         bool
	ReportFailures        bool
	ParallelizationFactor int // 1..10, default 1
	Enabled               bool
	Range                 hcl.Range
}

// ScheduleSource runs the function on an EventBridge schedule.
type ScheduleSource struct {
	Expression string // cron(...) or rate(...)
	Input      string // constant JSON input, "" when absent
	Enabled    bool
	Range      hcl.Range
}

// EventSource routes matching events on a bus to the function.
type EventSource struct {
	Bus     Addr   // zero Addr: the account's default bus
	Pattern string // canonical JSON event pattern
	Range   hcl.Range
}

// Output is an `output` block.
type Output struct {
	Addr        Addr
	DeclRange   hcl.Range
	Value       hcl.Expression
	Description string
	Sensitive   bool
}

// Layer is a layer block: a folder zipped as laid out (python/... for Python,
// nodejs/node_modules/... for Node) and published as a Lambda layer version.
type Layer struct {
	Addr      Addr
	DeclRange hcl.Range
	Source    string   // absolute folder
	Runtimes  []string // compatible runtimes
}
