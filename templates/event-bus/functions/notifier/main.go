// Command notifier receives notices from an SNS topic and delivers them.
package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	// Delivery here is a structured log line (CloudWatch Logs). To send real
	// email, implement Sender with SES (aws-sdk-go-v2/service/sesv2) and grant
	// it with a policy block in evdeploy.evd.hcl.
	h := &Handler{Sender: &logSender{out: log.New(os.Stdout, "", 0)}, From: "orders@example.com"}
	lambda.Start(h.Handle)
}
