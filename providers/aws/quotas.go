package aws

import "strings"

// Quota is one row of the API rate table: a budget (the calls that share one
// AWS quota), its rate, and where the figure comes from.
type Quota struct {
	// Budget names the calls that share the quota: "lambda" (Lambda's
	// control plane), "lambda:GetFunction", "iam:write", "logs:CreateLogGroup".
	Budget string
	// Rate is requests per second per account and Region (IAM: per
	// account).
	Rate float64
	// Published is false where AWS publishes no figure: Rate is then a
	// conservative guess, and Source says so.
	Published bool
	Source    string
}

// Sources of the published figures.
const (
	srcLambda  = "Lambda quotas, API requests: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
	srcLogs    = "CloudWatch Logs quotas: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html"
	srcKinesis = "Kinesis Data Streams API reference, per action (\"has a limit of five transactions per second per account\"): https://docs.aws.amazon.com/kinesis/latest/APIReference/"
	srcS3      = "S3 performance guidelines, per prefix: https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"
	srcEvents  = "EventBridge quotas (all APIs but PutEvents and the endpoint APIs): https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
	srcNone    = "conservative: AWS publishes no rate for these calls"
)

// QuotaTable is every budget evdeploy paces its calls by. Calls not named
// here (data-plane calls such as Invoke or PutItem) are not paced.
var QuotaTable = []Quota{
	// Lambda: the control plane shares one 15/s quota, reads and writes
	// alike; GetFunction and GetPolicy have their own.
	{Budget: "lambda", Rate: 15, Published: true, Source: srcLambda + " (control plane API requests, excluding invocation, GetFunction and GetPolicy)"},
	{Budget: "lambda:GetFunction", Rate: 100, Published: true, Source: srcLambda},
	{Budget: "lambda:GetPolicy", Rate: 15, Published: true, Source: srcLambda},
	// IAM publishes object quotas but no request rates; writes are known to
	// throttle early (the figure: 10/s).
	{Budget: "iam:write", Rate: 10, Source: srcNone + " (IAM: writes)"},
	{Budget: "iam:read", Rate: 20, Source: srcNone + " (IAM: reads)"},
	// CloudWatch Logs: per-action transactions per second.
	{Budget: "logs:CreateLogGroup", Rate: 5, Published: true, Source: srcLogs},
	{Budget: "logs:DeleteLogGroup", Rate: 10, Published: true, Source: srcLogs},
	{Budget: "logs:DescribeLogGroups", Rate: 10, Published: true, Source: srcLogs},
	{Budget: "logs:PutRetentionPolicy", Rate: 5, Published: true, Source: srcLogs},
	{Budget: "logs", Rate: 5, Source: srcNone + " (CloudWatch Logs: the other calls evdeploy makes, at the lowest published per-action rate)"},
	{Budget: "sqs", Rate: 20, Source: srcNone + " (SQS: queue management calls)"},
	{Budget: "sns", Rate: 10, Source: srcNone + " (SNS: topic and subscription management calls)"},
	{Budget: "events", Rate: 50, Published: true, Source: srcEvents},
	{Budget: "s3:read", Rate: 5500, Published: true, Source: srcS3 + " (GET/HEAD)"},
	{Budget: "s3:write", Rate: 3500, Published: true, Source: srcS3 + " (PUT/COPY/POST/DELETE)"},
	{Budget: "dynamodb", Rate: 10, Source: srcNone + " (DynamoDB: table management calls)"},
	{Budget: "kinesis:DescribeStreamSummary", Rate: 20, Published: true, Source: srcKinesis},
	{Budget: "kinesis:DescribeStream", Rate: 10, Published: true, Source: srcKinesis},
	{Budget: "kinesis", Rate: 5, Published: true, Source: srcKinesis + " (CreateStream, DeleteStream, AddTagsToStream, ListTagsForStream, … each 5/s)"},
	{Budget: "apigateway", Rate: 10, Source: srcNone + " (API Gateway management calls)"},
	{Budget: "pipes", Rate: 5, Source: srcNone + " (EventBridge Pipes management calls)"},
	{Budget: "sts", Rate: 20, Source: srcNone + " (STS)"},
}

var quotaByBudget = func() map[string]Quota {
	m := make(map[string]Quota, len(QuotaTable))
	for _, q := range QuotaTable {
		m[q.Budget] = q
	}
	return m
}()

// QuotaFor returns the row of a budget.
func QuotaFor(budget string) (Quota, bool) {
	q, ok := quotaByBudget[budget]
	return q, ok
}

// BudgetFor names the budget a call draws on, from the SDK's service id
// ("Lambda", "IAM", "CloudWatch Logs") and the operation name; "" for calls
// that are not paced. Read and write calls that share a quota get one budget.
func BudgetFor(service, op string) string {
	read := strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Head")
	switch service {
	case "Lambda":
		switch op {
		case "GetFunction", "GetPolicy":
			return "lambda:" + op
		case "Invoke", "InvokeAsync", "InvokeWithResponseStream":
			return ""
		}
		return "lambda"
	case "IAM":
		if read {
			return "iam:read"
		}
		return "iam:write"
	case "CloudWatch Logs":
		switch op {
		case "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy":
			return "logs:" + op
		case "PutLogEvents", "GetLogEvents", "FilterLogEvents", "StartQuery", "GetQueryResults":
			return ""
		}
		return "logs"
	case "SQS":
		switch op {
		case "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch":
			return ""
		}
		return "sqs"
	case "SNS":
		if op == "Publish" || op == "PublishBatch" {
			return ""
		}
		return "sns"
	case "EventBridge":
		if op == "PutEvents" {
			return ""
		}
		return "events"
	case "S3":
		if read {
			return "s3:read"
		}
		return "s3:write"
	case "DynamoDB":
		switch op {
		case "CreateTable", "DeleteTable", "UpdateTable", "DescribeTable", "ListTables", "TagResource", "UntagResource",
			"ListTagsOfResource", "UpdateTimeToLive", "DescribeTimeToLive", "UpdateContinuousBackups", "DescribeContinuousBackups":
			return "dynamodb"
		}
		return ""
	case "Kinesis":
		switch op {
		case "DescribeStreamSummary", "DescribeStream":
			return "kinesis:" + op
		case "PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard":
			return ""
		}
		return "kinesis"
	case "ApiGatewayV2":
		return "apigateway"
	case "Pipes":
		return "pipes"
	case "STS":
		return "sts"
	}
	return ""
}

// laneFor is the budget a resource type's operation mostly draws on: the
// executor keeps at most that budget's width of such operations in flight.
func laneFor(resourceType, op string) string {
	switch {
	case strings.HasPrefix(resourceType, "aws_iam_"):
		return "iam:write"
	case resourceType == "aws_cloudwatch_log_group":
		switch op {
		case "delete":
			return "logs:DeleteLogGroup"
		case "update":
			return "logs:PutRetentionPolicy"
		}
		return "logs:CreateLogGroup"
	case strings.HasPrefix(resourceType, "aws_lambda_"):
		return "lambda"
	case strings.HasPrefix(resourceType, "aws_sqs_"):
		return "sqs"
	case strings.HasPrefix(resourceType, "aws_sns_"):
		return "sns"
	case strings.HasPrefix(resourceType, "aws_eventbridge_"):
		return "events"
	case strings.HasPrefix(resourceType, "aws_s3_"):
		return "s3:write"
	case strings.HasPrefix(resourceType, "aws_dynamodb_"):
		return "dynamodb"
	case strings.HasPrefix(resourceType, "aws_kinesis_"):
		return "kinesis"
	case strings.HasPrefix(resourceType, "aws_apigatewayv2_"):
		return "apigateway"
	case strings.HasPrefix(resourceType, "aws_pipes_"):
		return "pipes"
	}
	return ""
}

// serviceBySigningName maps SigV4 signing names to the SDK's service ids.
var serviceBySigningName = map[string]string{
	"lambda": "Lambda", "iam": "IAM", "logs": "CloudWatch Logs", "sqs": "SQS", "sns": "SNS",
	"events": "EventBridge", "s3": "S3", "dynamodb": "DynamoDB", "kinesis": "Kinesis",
	"apigateway": "ApiGatewayV2", "pipes": "Pipes", "sts": "STS",
}

// QuotaForCall is the budget and rate of a call seen on the wire: its SigV4
// signing name and API name (for the benchmark's quota proxy, which plays
// the same table).
func QuotaForCall(signingName, api string) (string, float64) {
	b := BudgetFor(serviceBySigningName[signingName], api)
	q, ok := quotaByBudget[b]
	if !ok {
		return "", 0
	}
	return b, q.Rate
}
