// Package bench holds whole-command benchmarks: the evdeploy binary against the
// kumo emulator at 10, 100 and 1,000 functions, reporting each command's wall
// time, evdeploy's CPU time and peak RSS, the emulator's CPU, the API calls
// (reads, writes) it made, and for apply and destroy the critical-path bound
// computed from the executor's op trace ($EVDEPLOY_OPTRACE). Run:
//
//	go test ./bench -run '^$' -bench Commands -benchtime 1x -timeout 30m -v
//
// $EVDEPLOY_BENCH_LATENCY (e.g. 50ms) delays every API call;
// $EVDEPLOY_BENCH_PROFILE (a directory) makes every command write a CPU
// profile; $EVDEPLOY_BENCH_ENDPOINT (e.g. http://127.0.0.1:5123 of a
// `moto_server -p 5123`) runs against that emulator instead of kumo. Results, with the command and the machine, go in BENCHMARKS.md.
// Nothing here is a timed assertion: `go test ./bench` only checks the
// harness and the critical-path arithmetic.
package bench
