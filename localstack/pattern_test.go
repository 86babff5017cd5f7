package localstack

import (
	"encoding/json"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	event := `{"version":"0","id":"1","source":"shop.orders","detail-type":"OrderPlaced","account":"000000000000",
		"region":"us-east-1","resources":["arn:a","arn:b"],
		"detail":{"id":42,"state":"NEW","customer":{"tier":"Gold"},"tags":["x","y"],"ip":"10.0.3.4","empty":{}}}`
	var ev map[string]any
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"source":["shop.orders"]}`, true},
		{`{"source":["shop.other"]}`, false},
		{`{"source":["shop.orders"],"detail-type":["OrderPlaced","OrderCancelled"]}`, true},
		{`{"detail":{"state":["NEW"]}}`, true},
		{`{"detail":{"customer":{"tier":["Gold"]}}}`, true},
		{`{"detail":{"customer":{"tier":["Silver"]}}}`, false},
		{`{"detail":{"missing":["x"]}}`, false},
		{`{"detail":{"tags":["y"]}}`, true}, // any element of an event array
		{`{"resources":["arn:b"]}`, true},
		{`{"detail":{"id":[42]}}`, true},
		{`{"detail":{"id":["42"]}}`, false}, // a string does not match a number
		{`{"detail":{"id":[{"numeric":[">",40,"<=",42]}]}}`, true},
		{`{"detail":{"id":[{"numeric":["<",42]}]}}`, false},
		{`{"detail":{"state":[{"prefix":"NE"}]}}`, true},
		{`{"detail":{"state":[{"suffix":"EW"}]}}`, true},
		{`{"detail":{"state":[{"prefix":{"equals-ignore-case":"ne"}}]}}`, true},
		{`{"detail":{"state":[{"equals-ignore-case":"new"}]}}`, true},
		{`{"detail":{"state":[{"anything-but":["NEW","OLD"]}]}}`, false},
		{`{"detail":{"state":[{"anything-but":"OLD"}]}}`, true},
		{`{"detail":{"state":[{"anything-but":{"prefix":"N"}}]}}`, false},
		{`{"detail":{"state":[{"exists":true}]}}`, true},
		{`{"detail":{"missing":[{"exists":false}]}}`, true},
		{`{"detail":{"state":[{"exists":false}]}}`, false},
		{`{"detail":{"empty":[{"exists":true}]}}`, false}, // an empty object counts as absent
		{`{"detail":{"state":[{"wildcard":"N*W"}]}}`, true},
		{`{"detail":{"ip":[{"cidr":"10.0.0.0/16"}]}}`, true},
		{`{"detail":{"ip":[{"cidr":"10.1.0.0/16"}]}}`, false},
		{`{"$or":[{"source":["nope"]},{"detail":{"state":["NEW"]}}]}`, true},
		{`{"$or":[{"source":["nope"]},{"detail":{"state":["OLD"]}}]}`, false},
		{`{"source":"shop.orders"}`, false}, // a field must be an array or an object
	} {
		got, err := matchPattern(tc.pattern, ev)
		if err != nil {
			t.Errorf("%s: %v", tc.pattern, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: matched = %v, want %v", tc.pattern, got, tc.want)
		}
	}
	if _, err := matchPattern(`{"source":`, ev); err == nil {
		t.Error("a malformed pattern matched without an error")
	}
}
