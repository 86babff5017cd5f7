// Package localstack finds and runs local AWS-compatible targets: the embedded
// engine (the kumo emulator served by a detached evdeploy process on 127.0.0.1),
// a LocalStack container started with Docker, or any endpoint the user names.
// It reports health, records the running engine in the user's state folder,
// resolves --target local to an endpoint, and builds the aws.Config for it
// (static test credentials only: nothing reaches real AWS).
//
// The embedded engine adds what kumo lacks to run an app: it executes deployed
// functions (provided.* bootstraps built for this machine, Python and Node
// handlers on the host's interpreters) through kumo's Lambda Runtime API, and
// polls their SQS, Kinesis and DynamoDB stream event source mappings; it
// routes kumo's own cross-service calls to itself, whatever its port
// (selfcall.go), and delivers EventBridge events and schedules itself
// (events.go) through one delivery abstraction for every kind of target
// (deliver.go). It publishes Lambda's and SQS's CloudWatch metrics as the
// functions run (metrics.go), answers CloudWatch in CBOR and JSON, evaluates
// alarms and sends their notifications (cloudwatch.go), and keeps and
// replays EventBridge archives (archive.go). See docs/local.md and
// docs/operate.md.
//
// localstack imports no other evdeploy package.
package localstack
