// Package flow is the app's event flow as a graph: producers (APIs, buckets,
// schedules, tables) → routers (topics, buses, queues, streams) → consumers
// (functions), with one labelled edge per trigger, route and asynchronous
// destination, and the functions' `uses` grants drawn apart from the events.
//
// FromApp builds the model from a validated spec.App; Text, Mermaid, DOT and
// SVG draw it. The model is independent of the drawings: a new kind of
// connection in the spec (a route, an async destination) is one more Edge
// kind, and every format draws it. The SVG is laid out here, in Go, left to
// right by role, so no Graphviz or browser is needed to produce it.
//
// flow depends on spec only: it is a view of the language, not of what is
// deployed.
package flow
