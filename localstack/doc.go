// Package localstack finds and runs local AWS-compatible targets: the embedded
// engine (the kumo emulator served by a detached evdeploy process on 127.0.0.1),
// a LocalStack container started with Docker, or any endpoint the user names.
// It reports health and records the running engine in the user's state folder.
//
// localstack imports no other evdeploy package.
package localstack
