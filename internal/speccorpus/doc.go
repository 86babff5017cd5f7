// Package speccorpus lays out a case of spec's valid corpus
// (spec/testdata/valid) as a project folder for other packages' tests, so
// that flow, planner and cmd load the very file spec validates rather than
// a copy of it that drifts.
package speccorpus
