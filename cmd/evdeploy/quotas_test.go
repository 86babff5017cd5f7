package main

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestAPIQuotasFlag(t *testing.T) {
	aws := &TargetInfo{Target: "aws"}
	custom := &TargetInfo{Target: "aws", Endpoint: "http://127.0.0.1:4566"}
	local := &TargetInfo{Target: "local", Endpoint: "http://127.0.0.1:4566"}
	tests := []struct {
		name    string
		args    []string
		target  *TargetInfo
		paced   bool
		par     int
		wantErr bool
	}{
		{"auto on AWS", nil, aws, true, quotaParallelism, false},
		{"auto on a custom endpoint", nil, custom, false, 10, false},
		{"auto locally", nil, local, false, 10, false},
		{"on locally", []string{"--api-quotas", "on"}, local, true, quotaParallelism, false},
		{"off on AWS", []string{"--api-quotas", "off"}, aws, false, 10, false},
		{"--parallelism caps the total", []string{"--parallelism", "5"}, aws, true, 5, false},
		{"bad value", []string{"--api-quotas", "yes"}, aws, false, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("EVDEPLOY_API_QUOTAS", "")
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			o := &engineOptions{}
			o.addCommonFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			b, err := o.budgets(tt.target)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if (b != nil) != tt.paced || o.Parallelism != tt.par {
				t.Errorf("paced %v, parallelism %d; want %v, %d", b != nil, o.Parallelism, tt.paced, tt.par)
			}
			if b != nil && b.Width("lambda") > o.Parallelism {
				t.Errorf("lambda's width %d exceeds the total %d", b.Width("lambda"), o.Parallelism)
			}
		})
	}
}
