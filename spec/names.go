package spec

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

var (
	appNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$`)

	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	sqsRE     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	busRE     = regexp.MustCompile(`^[/\.\-_A-Za-z0-9]+$`)
	dynamoRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	kinesisRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	lambdaRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	apiNameRE = regexp.MustCompile(`^[^\x00-\x1f]+$`)
)

// bucketNameProblem says why name is not a valid S3 (general purpose) bucket
// name, or "" if it is.
func bucketNameProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Sprintf("S3 bucket names must be 3 to 63 characters long; %q has %d.", name, len(name))
	case !bucketRE.MatchString(name):
		return fmt.Sprintf("S3 bucket names may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit: %q.", name)
	case strings.Contains(name, ".."):
		return fmt.Sprintf("S3 bucket names must not contain two adjacent dots: %q.", name)
	case net.ParseIP(name) != nil:
		return fmt.Sprintf("S3 bucket names must not look like an IP address: %q.", name)
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") || strings.HasPrefix(name, "amzn-s3-demo-"):
		return fmt.Sprintf("S3 bucket names must not start with the reserved prefixes xn--, sthree- or amzn-s3-demo-: %q.", name)
	case strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") || strings.HasSuffix(name, ".mrap") || strings.HasSuffix(name, "--x-s3") || strings.HasSuffix(name, "--table-s3"):
		return fmt.Sprintf("S3 bucket names must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3): %q.", name)
	}
	return ""
}

// nameProblem checks an explicit `name = "…"` override against the service's
// rules; fifo matters for SQS and SNS. It returns "" when the name is valid.
func nameProblem(kind, name string, fifo bool) string {
	base := name
	switch kind {
	case KindBucket:
		return bucketNameProblem(name)
	case KindQueue, KindTopic:
		service, max := "SQS queue", 80
		if kind == KindTopic {
			service, max = "SNS topic", 256
		}
		hasSuffix := strings.HasSuffix(name, ".fifo")
		if fifo && !hasSuffix {
			return fmt.Sprintf("A FIFO %s name must end with \".fifo\": %q.", service, name)
		}
		if !fifo && hasSuffix {
			return fmt.Sprintf("Only a FIFO %s name may end with \".fifo\"; set fifo = true or rename %q.", service, name)
		}
		base = strings.TrimSuffix(name, ".fifo")
		if len(name) < 1 || len(name) > max || !sqsRE.MatchString(base) {
			return fmt.Sprintf("%s names must be 1 to %d characters: letters, digits, hyphens and underscores (plus the .fifo suffix): %q.", service, max, name)
		}
	case KindBus:
		if name == "default" {
			return "The bus name \"default\" is the account's default bus; leave out the bus to use it."
		}
		if len(name) > 256 || !busRE.MatchString(name) {
			return fmt.Sprintf("EventBridge bus names must be 1 to 256 characters: letters, digits, and . - _ /: %q.", name)
		}
	case KindTable:
		if len(name) < 3 || len(name) > 255 || !dynamoRE.MatchString(name) {
			return fmt.Sprintf("DynamoDB table names must be 3 to 255 characters: letters, digits, underscores, hyphens and dots: %q.", name)
		}
	case KindStream:
		if len(name) < 1 || len(name) > 128 || !kinesisRE.MatchString(name) {
			return fmt.Sprintf("Kinesis stream names must be 1 to 128 characters: letters, digits, underscores, hyphens and dots: %q.", name)
		}
	case KindFunction:
		if len(name) < 1 || len(name) > 64 || !lambdaRE.MatchString(name) {
			return fmt.Sprintf("Lambda function names must be 1 to 64 characters: letters, digits, hyphens and underscores: %q.", name)
		}
	case KindAPI:
		if len(name) < 1 || len(name) > 128 || !apiNameRE.MatchString(name) {
			return fmt.Sprintf("API names must be 1 to 128 printable characters: %q.", name)
		}
	}
	return ""
}
