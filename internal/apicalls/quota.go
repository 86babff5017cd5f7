package apicalls

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Quotas makes the proxy play AWS's API rate limits: each call is charged to
// a budget (Budget says which, from the service's signing name and the API
// name) whose token bucket refills at the budget's rate and holds one second's
// worth; a call that finds the bucket empty is answered with the throttling
// error that service sends, in its protocol, and never reaches the emulator.
type Quotas struct {
	// Budget names the budget of a call and its rate (requests per
	// second); "" or a rate <= 0 leaves the call unlimited. service is the
	// SigV4 signing name ("lambda", "iam", "logs"), api the operation
	// (APIName).
	Budget func(service, api string) (budget string, rate float64)

	mu        sync.Mutex
	buckets   map[string]*bucket
	calls     map[string]int
	throttled map[string]int
	now       func() time.Time
}

type bucket struct {
	rate, tokens float64
	at           time.Time
}

// Reset fills every bucket (an idle account's) and zeroes the counts.
func (q *Quotas) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.buckets, q.calls, q.throttled = nil, nil, nil
}

// Counts returns the calls each budget admitted and the calls it throttled
// since the last Reset.
func (q *Quotas) Counts() (calls, throttled map[string]int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	calls, throttled = map[string]int{}, map[string]int{}
	for k, v := range q.calls {
		calls[k] = v
	}
	for k, v := range q.throttled {
		throttled[k] = v
	}
	return calls, throttled
}

// admit charges the call to its budget: false means throttle it.
func (q *Quotas) admit(service, api string) (budget string, ok bool) {
	if q.Budget == nil {
		return "", true
	}
	budget, rate := q.Budget(service, api)
	if budget == "" || rate <= 0 {
		return "", true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.buckets == nil {
		q.buckets, q.calls, q.throttled = map[string]*bucket{}, map[string]int{}, map[string]int{}
	}
	now := time.Now()
	if q.now != nil {
		now = q.now()
	}
	capacity := math.Max(1, rate)
	b := q.buckets[budget]
	if b == nil {
		b = &bucket{rate: rate, tokens: capacity, at: now}
		q.buckets[budget] = b
	}
	b.tokens = math.Min(capacity, b.tokens+now.Sub(b.at).Seconds()*b.rate)
	b.at = now
	if b.tokens < 1 {
		q.throttled[budget]++
		return budget, false
	}
	b.tokens--
	q.calls[budget]++
	return budget, true
}

// SigningName is the service of a SigV4-signed request: the fourth part of
// the Authorization header's credential scope (AKID/date/region/service/...).
func SigningName(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	scope := auth[i+len("Credential="):]
	if j := strings.IndexAny(scope, ", "); j >= 0 {
		scope = scope[:j]
	}
	parts := strings.Split(scope, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// APIName is the API operation of a request as far as the quotas need it: the
// operation for JSON and query protocols (Operation); for Lambda's REST API
// GetFunction, GetPolicy or "" for any other control-plane call; for S3
// "Get…" for reads (GET, HEAD) and the method otherwise.
func APIName(service string, r *http.Request, op string) string {
	if service != "lambda" {
		return op
	}
	// /2015-03-31/functions/NAME and /2015-03-31/functions/NAME/policy
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method == http.MethodGet && len(parts) >= 3 && parts[1] == "functions" {
		switch {
		case len(parts) == 3:
			return "GetFunction"
		case len(parts) == 4 && parts[3] == "policy":
			return "GetPolicy"
		}
	}
	return ""
}

// writeThrottle answers as service does when a caller exceeds its rate: the
// error code, message, HTTP status and protocol shape AWS documents for it.
func writeThrottle(w http.ResponseWriter, service string) {
	const reqID = "00000000-0000-4000-8000-000000000000"
	h := w.Header()
	h.Set("X-Amzn-Requestid", reqID)
	switch service {
	case "lambda":
		// Lambda (REST-JSON): TooManyRequestsException, 429, with
		// Retry-After (retryAfterSeconds) and the Reason of the limit.
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", "TooManyRequestsException")
		h.Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}`)
	case "apigateway":
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", "TooManyRequestsException")
		h.Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"Too Many Requests","limitType":"RATE"}`)
	case "pipes":
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", "ThrottlingException")
		h.Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"Rate exceeded"}`)
	case "iam", "sts", "sns":
		// Query protocol: an XML ErrorResponse, 400. IAM and STS say
		// Throttling; SNS ThrottlingException ("Rate exceeded").
		code, ns := "Throttling", "https://iam.amazonaws.com/doc/2010-05-08/"
		switch service {
		case "sts":
			ns = "https://sts.amazonaws.com/doc/2011-06-15/"
		case "sns":
			code, ns = "ThrottlingException", "http://sns.amazonaws.com/doc/2010-03-31/"
		}
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>Rate exceeded</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, ns, code, reqID)
	case "sqs":
		// SQS (JSON protocol, query-compatible): RequestThrottled, 400.
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Query-Error", "RequestThrottled;Sender")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Request is throttled."}`)
	case "s3":
		// S3: 503 SlowDown.
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>%s</RequestId><HostId>x</HostId></Error>`, reqID)
	case "kinesis":
		h.Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"LimitExceededException","message":"Rate exceeded for account 000000000000."}`)
	case "dynamodb":
		h.Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`)
	default:
		// The JSON 1.1 services (CloudWatch Logs, EventBridge):
		// ThrottlingException, 400, "Rate exceeded".
		h.Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	}
}
