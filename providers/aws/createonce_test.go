package aws

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evdeploy/evdeploy/planner"
)

func TestCreateOnce(t *testing.T) {
	lost := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	invalid := errors.New("ValidationException: bad name")
	tests := []struct {
		name        string
		createErrs  []error // one per attempt; nil = success
		foundAfter  int     // find reports the resource from this attempt on (0: never)
		wantID      string
		wantErr     error
		wantCreates int
	}{
		{"first attempt works", []error{nil}, 0, "made-1", nil, 1},
		{"lost answer: the retry finds what the first attempt made", []error{lost}, 1, "found", nil, 1},
		{"lost answer, nothing made: created again", []error{lost, nil}, 0, "made-2", nil, 2},
		{"not retryable: no second attempt", []error{invalid}, 0, "", invalid, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creates, finds := 0, 0
			id, _, err := createOnce(context.Background(), func(context.Context) (string, planner.Attrs, error) {
				creates++
				if e := tt.createErrs[creates-1]; e != nil {
					return "", nil, e
				}
				return "made-" + string(rune('0'+creates)), planner.Attrs{}, nil
			}, func(context.Context) (string, planner.Attrs, bool, error) {
				finds++
				if tt.foundAfter > 0 && finds >= tt.foundAfter {
					return "found", planner.Attrs{}, true, nil
				}
				return "", nil, false, nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantID, id); diff != "" {
				t.Errorf("id (-want +got)\n%s", diff)
			}
			if creates != tt.wantCreates {
				t.Errorf("%d creates, want %d", creates, tt.wantCreates)
			}
		})
	}
}
