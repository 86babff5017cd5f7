// Package aws implements planner.Handler for every AWS resource type evdeploy
// deploys, one file per type, all registered in registry.go. Handlers are written
// against narrow client interfaces holding only the SDK methods they use, and are
// tested against the kumo emulator.
//
// The command layer builds the aws.Config, so handlers never know whether they
// talk to AWS, LocalStack or the embedded engine. This package imports planner
// and aws-sdk-go-v2; it never imports spec.
package aws
