package planner

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/evdeploy/evdeploy/spec"
)

// Package is a function's built code, as the build step reports it.
type Package struct {
	Path    string // local zip
	SHA256  string // base64 SHA-256: Lambda's CodeSha256
	Runtime string // deployed runtime (go → provided.al2023)
	Handler string // deployed handler (bootstrap for go)
	Size    int64
}

// LowerOptions are the facts about the target that lowering needs.
type LowerOptions struct {
	Account   string // AWS account id (from STS)
	Region    string
	Partition string // "aws" unless set

	// Packages holds each function's built package, by block address. A
	// function without one is lowered with an unknown code hash.
	Packages map[spec.Addr]*Package

	// LocalEndpoint, when set, is injected into every function's environment
	// as AWS_ENDPOINT_URL so the SDK inside a function reaches the same local
	// cloud as evdeploy.
	LocalEndpoint string

	// APIURLFormat, when set, replaces what the service reports as an HTTP
	// API's URL (api.x.url) with fmt.Sprintf(APIURLFormat, apiID): the
	// embedded engine serves APIs at http://<id>.execute-api.localhost:<port>
	// but reports AWS's URL.
	APIURLFormat string

	// DirectUploadLimit is the largest package sent inline to Lambda
	// (default DefaultDirectUploadLimit); bigger ones are staged in the app's
	// artifacts bucket, which Lower then adds.
	DirectUploadLimit int64

	// Existing holds what AWS reports of each block made elsewhere
	// (existing = "<name or ARN>"): its reference attributes (name, arn,
	// url, stream_arn) and ExistingFIFO / ExistingNotifications.
	Existing map[spec.Addr]map[string]any

	// AppOutputs are the other apps' outputs, by app_outputs block name.
	AppOutputs map[string]map[string]cty.Value

	// Zones maps each hosted zone an api's domain names (by name, lower
	// case, no trailing dot) to its Route 53 id. The command looks them up
	// before lowering, so a missing zone stops before any write.
	Zones map[string]string

	// DomainURLFormat, when set, replaces https://<domain> in an api's url
	// with fmt.Sprintf(DomainURLFormat, domain): the embedded engine serves
	// a domain at http://<domain>.localhost:<port>.
	DomainURLFormat string
}

// DefaultDirectUploadLimit is Lambda's limit on a zip sent with the request
// (50 MB).
const DefaultDirectUploadLimit = 50 << 20

// Resource types (docs/resources.md).
const (
	TypeRole         = "aws_iam_role"
	TypeRolePolicy   = "aws_iam_role_policy"
	TypeLogGroup     = "aws_cloudwatch_log_group"
	TypeFunction     = "aws_lambda_function"
	TypePermission   = "aws_lambda_permission"
	TypeMapping      = "aws_lambda_event_source_mapping"
	TypeQueue        = "aws_sqs_queue"
	TypeTopic        = "aws_sns_topic"
	TypeSubscription = "aws_sns_subscription"
	TypeBus          = "aws_eventbridge_bus"
	TypeRule         = "aws_eventbridge_rule"
	TypeTarget       = "aws_eventbridge_target"
	TypeBucket       = "aws_s3_bucket"
	TypeNotification = "aws_s3_bucket_notification"
	TypeTable        = "aws_dynamodb_table"
	TypeStream       = "aws_kinesis_stream"
	TypeAPI          = "aws_apigatewayv2_api"
	TypeIntegration  = "aws_apigatewayv2_integration"
	TypeRoute        = "aws_apigatewayv2_route"
	TypeStage        = "aws_apigatewayv2_stage"
	TypeFunctionURL  = "aws_lambda_function_url"
	TypeAuthorizer   = "aws_apigatewayv2_authorizer"
	TypeQueuePolicy  = "aws_sqs_queue_policy"
	TypeTopicPolicy  = "aws_sns_topic_policy"
	TypeInvokeConfig = "aws_lambda_event_invoke_config"
	TypePipe         = "aws_pipes_pipe"
	TypeCertificate  = "aws_acm_certificate"
	TypeCertWait     = "aws_acm_certificate_validation"
	TypeRecord       = "aws_route53_record"
	TypeDomainName   = "aws_apigatewayv2_domain_name"
	TypeAPIMapping   = "aws_apigatewayv2_api_mapping"
)

// ResourceTypes lists every type Lower may emit; providers must register a
// handler for each (a provider test checks it).
var ResourceTypes = []string{
	TypeRole, TypeRolePolicy, TypeLogGroup, TypeFunction, TypePermission, TypeMapping,
	TypeQueue, TypeTopic, TypeSubscription, TypeBus, TypeRule, TypeTarget,
	TypeBucket, TypeNotification, TypeTable, TypeStream,
	TypeAPI, TypeIntegration, TypeRoute, TypeStage, TypeFunctionURL, TypeAuthorizer,
	TypeQueuePolicy, TypeTopicPolicy, TypeInvokeConfig, TypePipe, TypeLayer, TypeAlarm, TypeArchive,
	TypeSSMParameter, TypeSecret,
	TypeCertificate, TypeCertWait, TypeRecord, TypeDomainName, TypeAPIMapping,
}

// lowering holds the state of one Lower call.
type lowering struct {
	app  *spec.App
	opts LowerOptions
	out  map[string]*DesiredResource
	// blockAttrs are the values a reference like queue.orders.url reads:
	// known strings, Refs or Exprs.
	blockAttrs map[spec.Addr]map[string]any
	// extra statements per function, from its triggers.
	triggerStmts map[spec.Addr][]iamStatement
	// policyStmts are the resource-policy statements of each queue and
	// topic that routes deliver into.
	policyStmts map[spec.Addr][]resourceStatement
	diags       hcl.Diagnostics
	// secrets collects the known text of sensitive values evaluated.
	secrets []string
	// artifacts is the artifacts bucket's name, "" when no package needs it.
	artifacts     string
	artifactsAddr ResourceAddr
	// released are the functions with a release block (lower_release.go).
	released map[spec.Addr]bool
	// existingBlocks are the blocks made elsewhere.
	existingBlocks map[spec.Addr]bool
}

func (l *lowering) uploadLimit() int64 {
	if l.opts.DirectUploadLimit > 0 {
		return l.opts.DirectUploadLimit
	}
	return DefaultDirectUploadLimit
}

// artifactsBucket adds the app's artifacts bucket when some package is over
// the direct-upload limit: one per app and stage, evdeploy's own, holding
// packages by content hash.
func (l *lowering) artifactsBucket() {
	need := false
	for a, p := range l.opts.Packages {
		// Layers are published inline (the command refuses bigger ones).
		if a.Kind != spec.KindLayer && p != nil && p.Size > l.uploadLimit() {
			need = true
		}
	}
	if !need {
		return
	}
	block := spec.Addr{Kind: "app", Name: l.app.Name}
	name := bucketName(l.app.Name, l.app.Stage, "artifacts", l.opts.Account, l.opts.Region)
	l.artifacts = name
	l.artifactsAddr = l.add(block, TypeBucket, "artifacts", Attrs{"name": name, "block_public_access": true, "tags": l.tags(block, nil)}, name, name)
}

// hexSHA turns a base64 SHA-256 (Lambda's CodeSha256) into hex for object keys.
func hexSHA(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nameHash(b64)
	}
	return hex.EncodeToString(raw)
}

// Lower turns a validated app into the provider resources that implement it.
// The result is deterministic for the same app and options.
func Lower(app *spec.App, opts LowerOptions) (*Desired, hcl.Diagnostics) {
	if opts.Partition == "" {
		opts.Partition = "aws"
	}
	l := &lowering{
		app:          app,
		opts:         opts,
		out:          map[string]*DesiredResource{},
		blockAttrs:   map[spec.Addr]map[string]any{},
		triggerStmts: map[spec.Addr][]iamStatement{},
		policyStmts:  map[spec.Addr][]resourceStatement{},
		released:     map[spec.Addr]bool{},

		existingBlocks: map[spec.Addr]bool{},
	}
	// Data and routing blocks first: functions' environments and policies
	// read their attributes.
	for _, x := range app.Layers {
		l.layer(x)
	}
	for _, s := range app.Secrets {
		l.secret(s)
	}
	for _, q := range app.Queues {
		l.queue(q)
	}
	for _, t := range app.Topics {
		l.topic(t)
	}
	for _, b := range app.Buses {
		l.bus(b)
	}
	for _, b := range app.Buckets {
		l.bucket(b)
	}
	for _, t := range app.Tables {
		l.table(t)
	}
	for _, s := range app.Streams {
		l.stream(s)
	}
	for _, a := range app.APIs {
		l.api(a)
	}
	l.domains()
	for _, f := range app.Functions {
		l.functionAttrs(f)
	}
	l.alarms()
	for _, t := range app.Triggers {
		l.trigger(t)
	}
	for _, r := range app.Routes {
		l.route(r)
	}
	l.policies()
	l.notifications()
	l.artifactsBucket()
	for _, f := range app.Functions {
		l.async(f)
		l.function(f)
	}
	l.functionPolicies()
	l.existingChecks()
	l.dropExistingDeps()

	d := &Desired{}
	for _, r := range l.out {
		d.Resources = append(d.Resources, r)
	}
	sort.Slice(d.Resources, func(i, j int) bool { return d.Resources[i].Addr.String() < d.Resources[j].Addr.String() })
	for _, o := range app.Outputs {
		v := l.expr(o.Value, o.Addr.String())
		// An output computed from a secret is sensitive whether or not it
		// says so.
		d.Outputs = append(d.Outputs, &DesiredOutput{Name: o.Addr.Name, Value: v, Sensitive: o.Sensitive || l.sensitive(o.Value)})
	}
	d.Secrets = append(app.SensitiveValues(), l.secrets...)
	return d, l.diags
}

func (l *lowering) add(block spec.Addr, typ, name string, attrs Attrs, physical, id string, deps ...ResourceAddr) ResourceAddr {
	addr := ResourceAddr{Block: block.String(), Type: typ, Name: name}
	l.out[addr.String()] = &DesiredResource{Addr: addr, Attrs: attrs, Name: physical, ID: id, DependsOn: deps}
	return addr
}

func (l *lowering) name(r nameRule, block spec.Addr, explicit, suffix string) string {
	if explicit != "" {
		return explicit
	}
	return physicalName(r, l.app.Name, l.app.Stage, block.Name, suffix)
}

func (l *lowering) tags(block spec.Addr, own map[string]string) map[string]any {
	t := map[string]any{}
	for k, v := range l.app.Tags {
		t[k] = v
	}
	for k, v := range own {
		t[k] = v
	}
	t["evdeploy:app"] = l.app.Name
	t["evdeploy:stage"] = l.app.Stage
	t["evdeploy:block"] = block.String()
	return t
}

func (l *lowering) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", l.opts.Partition, service, l.opts.Region, l.opts.Account, resource)
}

func mainAddr(block spec.Addr, typ string) ResourceAddr {
	return ResourceAddr{Block: block.String(), Type: typ, Name: "main"}
}

func seconds(d interface{ Seconds() float64 }) int64 { return int64(d.Seconds()) }
