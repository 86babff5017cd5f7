package apicalls

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOperation(t *testing.T) {
	tests := []struct {
		name   string
		req    func() *http.Request
		want   string
		isRead bool
	}{
		{"json protocol", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
			return r
		}, "DescribeTable", true},
		{"json protocol write", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.CreateStream")
			return r
		}, "CreateStream", false},
		{"query protocol", func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("Action=CreateRole&Version=2010-05-08"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}, "CreateRole", false},
		{"rest read", func() *http.Request {
			return httptest.NewRequest("GET", "/2015-03-31/functions/f", nil)
		}, "Get/2015-03-31/functions/f", true},
		{"rest write", func() *http.Request {
			return httptest.NewRequest("PUT", "/2015-03-31/functions/f/code", nil)
		}, "PUT /2015-03-31/functions/f/code", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			got := Operation(r, ReadBody(r))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if IsRead(got) != tt.isRead {
				t.Errorf("IsRead(%q) = %v", got, !tt.isRead)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	c := NewCounter(backend.URL)
	defer c.Close()
	for _, m := range []string{"GET", "HEAD", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, c.URL+"/x", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	reads, writes := c.Reset()
	if reads != 2 || !cmp.Equal(writes, []string{"PUT /x", "DELETE /x"}) {
		t.Errorf("reads %d, writes %v", reads, writes)
	}
	if r, w := c.Reset(); r != 0 || len(w) != 0 {
		t.Errorf("after Reset: %d, %v", r, w)
	}
}
