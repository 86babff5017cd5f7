// Package apicalls tells which AWS API operation an HTTP request carries,
// across AWS's protocols, and counts calls through a reverse proxy. Tests and
// benchmarks put it between evdeploy and the emulator to prove how many write
// calls a command makes (a no-change apply must make none).
//
// It imports no other evdeploy package.
package apicalls
