// Package planner turns a validated spec.App into a deployment.
//
// The pipeline:
//
//	spec.App ──Lower──▶ desired Graph (provider resources + edges)
//	state + Handler.Read (refresh) ──▶ prior/actual
//	Diff(desired, actual) ──▶ Plan (ordered Changes)
//	Plan ──Render──▶ text / JSON          Plan ──Apply──▶ Handler.Create/Update/Delete
//
// One Plan has two consumers — the renderer and the executor — so what the user
// reads is exactly what apply does.
//
// planner defines the Handler interface that providers implement, but never
// imports a provider or the AWS SDK (the Makefile's lint target checks this with
// go list -deps). It may import spec and state.
package planner
