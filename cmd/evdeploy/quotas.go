package main

import (
	"fmt"
	"os"

	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
)

// quotaParallelism is the default cap on calls in flight when calls are paced
// by AWS's quotas: the budgets bound each API, so the total only has to be
// wide enough for all of them at once.
const quotaParallelism = 64

// budgets decides --api-quotas: "on" paces every call by AWS's published API
// quotas (providers/aws QuotaTable, adapting on throttling), "off" does not,
// "auto" (the default) paces on --target aws with AWS's own endpoints and not
// against an emulator. $EVDEPLOY_API_QUOTAS sets the default. With pacing on
// and --parallelism not given, the cap on calls in flight is quotaParallelism.
func (o *engineOptions) budgets(target *TargetInfo) (*awsprov.Budgets, error) {
	mode := o.APIQuotas
	if mode == "" || (mode == "auto" && (o.flags == nil || !o.flags.Changed("api-quotas"))) {
		if env := os.Getenv("EVDEPLOY_API_QUOTAS"); env != "" {
			mode = env
		}
	}
	on := false
	switch mode {
	case "", "auto":
		on = target.Target == "aws" && target.Endpoint == ""
	case "on":
		on = true
	case "off":
	default:
		return nil, fmt.Errorf("--api-quotas %q: want auto, on or off", mode)
	}
	if !on {
		return nil, nil
	}
	if o.flags == nil || !o.flags.Changed("parallelism") {
		o.Parallelism = quotaParallelism
	}
	return awsprov.NewBudgets(o.Parallelism), nil
}

// lanes are the executor's lanes: the budgets, when calls are paced.
func (s *session) lanes() planner.Lanes {
	if s.budgets == nil {
		return nil
	}
	return s.budgets
}
