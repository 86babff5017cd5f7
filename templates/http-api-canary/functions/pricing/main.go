// Command pricing quotes prices over HTTP. It runs behind an API Gateway HTTP
// API through the function's "live" alias, released as a canary.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func main() {
	// Lambda tells each version its number (AWS_LAMBDA_FUNCTION_VERSION):
	// the answer names it, so a canary's split is visible to the caller.
	h := &Handler{Catalog: catalog, Version: lambdacontext.FunctionVersion}
	lambda.Start(h.Handle)
}
