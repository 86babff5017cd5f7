// Package planner turns a validated spec.App into a deployment.
//
// The pipeline:
//
//	spec.App ──Lower──▶ Desired (provider resources + edges)       lower*.go
//	state + Handler.Read ──Refresh──▶ Observations                  refresh.go
//	Diff(desired, state, observations) ──▶ Plan (ordered Changes)   diff.go, plan.go
//	Plan ──Render / RenderJSON──▶ text / JSON                       render.go, planjson.go
//	Plan ──Apply──▶ Handler.Create/Update/Delete + StateWriter      apply.go
//	state ──PlanDestroy──▶ Plan of deletions                        destroy.go
//	Plan ──SavePlanFile / LoadPlanFile + CheckFresh──▶ -out FILE    planfile.go
//
// One Plan has two consumers — the renderer and the executor — so what the user
// reads is exactly what apply does. Change.Reason is for people only; Apply
// never decides anything from it.
//
// Decisions the code relies on:
//   - Order (graph.go) comes from the Refs and Exprs inside attributes plus
//     DependsOn; ties break by address so every output is deterministic.
//   - Drift is only what a service reports differently: an attribute Read
//     leaves out keeps its last applied value; WriteOnly attributes compare
//     with the last applied value only; NoDiff inputs never compare.
//   - A Ref resolves from its producer's planned After: known when the
//     producer is unchanged (state) or lowering derived it; otherwise Unknown,
//     a change only when the producer is being (re)created. A consumer of a
//     recreated producer is re-applied (or replaced, when that attribute is
//     ForceNew) even if the value it reads is the same.
//   - A replacement is delete-then-create: physical names are deterministic,
//     so the new resource cannot exist beside the old one.
//   - Before a create, apply journals an intent (address, expected id or
//     name, attributes) when a later refresh can look it up (a derivable id
//     or a Finder); Refresh looks journaled names up and adopts what it finds,
//     never anything else.
//   - Outputs are planned and shown, but never make HasChanges: apply always
//     records them.
//
// planner defines the Handler interface that providers implement, but never
// imports a provider or the AWS SDK (the Makefile's arch-check verifies this
// with go list -deps). It may import spec and state.
package planner
