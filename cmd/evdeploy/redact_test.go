package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactor(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"nothing registered", nil, "password=hunter22", "password=hunter22"},
		{"an AWS error echoing a request", []string{"hunter22"},
			"operation error Lambda: UpdateFunctionConfiguration, InvalidParameterValueException: DSN=postgres://u:hunter22@db",
			"operation error Lambda: UpdateFunctionConfiguration, InvalidParameterValueException: DSN=postgres://u:(sensitive)@db"},
		{"every occurrence", []string{"hunter22"}, "hunter22 hunter22", "(sensitive) (sensitive)"},
		{"the longer secret first", []string{"abcd", "abcdefgh"}, "x abcdefgh y abcd", "x (sensitive) y (sensitive)"},
		{"too short to scrub", []string{"yes"}, "yes, the plan", "yes, the plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &redactor{}
			r.add(tt.secrets...)
			var b bytes.Buffer
			n, err := r.writer(&b).Write([]byte(tt.in))
			if err != nil || n != len(tt.in) {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(tt.in))
			}
			if d := cmp.Diff(tt.want, b.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
