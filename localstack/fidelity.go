package localstack

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Answers the engine corrects on their way back, where kumo departs from
// AWS's documented API in a way the SDKs trip on (docs/local.md, "SDK
// fidelity"):
//   - DynamoDB BatchWriteItem: kumo leaves out UnprocessedItems; boto3's
//     batch_writer reads it unconditionally (KeyError). Added as {}.
//   - SNS PublishBatch: kumo does not implement it (its answer is not the
//     XML an SDK can parse). The engine publishes each entry with Publish and
//     answers as SNS does.
//   - SNS Subscribe: kumo subscribes an endpoint again on every call, AWS
//     answers the existing subscription (snssubscribe.go).
//   - DynamoDB: every answer from AWS carries X-Amz-Crc32, the CRC32 of its
//     body, and the Go SDK checks it; kumo sends none, so the SDK checks
//     against 0 and logs "response did not match expected checksum" in
//     every function using DynamoDB. Added to each DynamoDB answer.
//   - SQS queue URLs: kumo says http://localhost:4566 whatever the engine's
//     port; SDKs that send to the queue URL (boto3 and the AWS CLI do) would
//     reach another engine or nothing. Rewritten to the engine's address.
//
// Not an answer but a transport: the engine's server also accepts HTTP/2
// without TLS (engine.go), which the JS SDK's Kinesis client requires.

type fidelity struct {
	endpoint string // the engine's, for queue URLs

	subscribing sync.Mutex // one SNS Subscribe at a time (snssubscribe.go)
}

func (fx *fidelity) wrap(next http.Handler) http.Handler {
	var fix http.Handler
	fix = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		target := req.Header.Get("X-Amz-Target")
		switch {
		case target == "DynamoDB_20120810.BatchWriteItem":
			fx.fixJSON(w, req, next, func(m map[string]any) {
				if _, ok := m["UnprocessedItems"]; !ok {
					m["UnprocessedItems"] = map[string]any{}
				}
			})
			return
		case target == "Logs_20140328.FilterLogEvents":
			fixFilterLogEvents(w, req, next) // logorder.go
			return
		case target == "Logs_20140328.GetLogEvents":
			getLogEvents(w, req, next)
			return
		case strings.HasPrefix(target, "AmazonSQS."):
			fx.fixQueueURLs(w, req, next)
			return
		case target == "" && req.Method == http.MethodPost && isSNSForm(req):
			body, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			form, err := url.ParseQuery(string(body))
			if err == nil && form.Get("Action") == "PublishBatch" {
				fx.publishBatch(w, req, next, form)
				return
			}
			if err == nil && form.Get("Action") == "Subscribe" {
				fx.subscribe(w, req, next, form)
				return
			}
		case target == "" && strings.Contains(req.Header.Get("Authorization"), "/sqs/"):
			fx.fixQueueURLs(w, req, next)
			return
		}
		next.ServeHTTP(w, req)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.") {
			withCRC32(w, req, fix)
			return
		}
		fix.ServeHTTP(w, req)
	})
}

// withCRC32 answers with next's answer and its body's CRC32 in
// X-Amz-Crc32, as DynamoDB does.
func withCRC32(w http.ResponseWriter, req *http.Request, next http.Handler) {
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	body := buf.body.Bytes()
	buf.header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	writeBuffered(w, buf, body)
}

func isSNSForm(req *http.Request) bool {
	return strings.Contains(req.Header.Get("Authorization"), "/sns/") &&
		strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// fixJSON lets fix edit a successful JSON answer.
func (fx *fidelity) fixJSON(w http.ResponseWriter, req *http.Request, next http.Handler, fix func(map[string]any)) {
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	writeEdited(w, buf, fix)
}

// writeEdited sends a held answer on, edited first by edit when it is a
// success whose body is a JSON object.
func writeEdited(w http.ResponseWriter, buf *bufferedResponse, edit func(map[string]any)) {
	out := buf.body.Bytes()
	if buf.status == 0 || buf.status/100 == 2 {
		var m map[string]any
		if json.Unmarshal(out, &m) == nil && m != nil {
			edit(m)
			if b, err := json.Marshal(m); err == nil {
				out = b
			}
		}
	}
	writeBuffered(w, buf, out)
}

func (fx *fidelity) fixQueueURLs(w http.ResponseWriter, req *http.Request, next http.Handler) {
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, req)
	out := bytes.ReplaceAll(buf.body.Bytes(), []byte("http://localhost:4566/"), []byte(fx.endpoint+"/"))
	writeBuffered(w, buf, out)
}

func writeBuffered(w http.ResponseWriter, buf *bufferedResponse, body []byte) {
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

// publishBatch answers SNS PublishBatch by publishing each entry.
func (fx *fidelity) publishBatch(w http.ResponseWriter, req *http.Request, next http.Handler, form url.Values) {
	type member struct {
		ID        string `xml:"Id"`
		MessageID string `xml:"MessageId,omitempty"`
		Code      string `xml:"Code,omitempty"`
		Message   string `xml:"Message,omitempty"`
		Sender    *bool  `xml:"SenderFault,omitempty"`
	}
	// Entries by index: PublishBatchRequestEntries.member.N.Field…
	entries := map[int]url.Values{}
	const pfx = "PublishBatchRequestEntries.member."
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, pfx)
		if !ok {
			continue
		}
		n, field, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if entries[i] == nil {
			entries[i] = url.Values{}
		}
		entries[i][field] = v
	}
	idx := make([]int, 0, len(entries))
	for i := range entries {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var ok, failed []member
	for _, i := range idx {
		e := entries[i]
		pub := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {form.Get("TopicArn")}}
		for f, v := range e {
			if f == "Id" {
				continue
			}
			pub[f] = v // Message, Subject, MessageStructure, MessageGroupId, MessageAttributes.entry.N.…
		}
		r, _ := http.NewRequestWithContext(req.Context(), http.MethodPost, req.URL.String(), strings.NewReader(pub.Encode()))
		r.Header = req.Header.Clone()
		r.Header.Del("Content-Length")
		r.Host = req.Host
		buf := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buf, r)
		var res struct {
			MessageID string `xml:"PublishResult>MessageId"`
			Code      string `xml:"Error>Code"`
			Message   string `xml:"Error>Message"`
		}
		_ = xml.Unmarshal(buf.body.Bytes(), &res)
		if (buf.status == 0 || buf.status == http.StatusOK) && res.MessageID != "" {
			ok = append(ok, member{ID: e.Get("Id"), MessageID: res.MessageID})
			continue
		}
		sender := buf.status >= 400 && buf.status < 500
		if res.Code == "" {
			res.Code, res.Message = "InternalError", fmt.Sprintf("publish answered %d", buf.status)
		}
		failed = append(failed, member{ID: e.Get("Id"), Code: res.Code, Message: res.Message, Sender: &sender})
	}
	type result struct {
		XMLName    xml.Name `xml:"PublishBatchResponse"`
		NS         string   `xml:"xmlns,attr"`
		Successful []member `xml:"PublishBatchResult>Successful>member"`
		Failed     []member `xml:"PublishBatchResult>Failed>member"`
		RequestID  string   `xml:"ResponseMetadata>RequestId"`
	}
	b, _ := xml.Marshal(result{NS: "http://sns.amazonaws.com/doc/2010-03-31/", Successful: ok, Failed: failed, RequestID: newUUID()})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
