// Package motoserver runs moto's server mode (moto_server, a Python AWS
// emulator written independently of kumo) for a test process, so the same
// tests can run against a second emulator.
//
// Use:
//
//	func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		cfg := motoserver.Config(t) // or motoserver.URL(t) for the endpoint
//		...
//	}
//
// The first call to URL (or Config) starts one moto_server on a free port of
// 127.0.0.1 and waits until it answers; later calls, from any test of the
// process, share it. Main stops it after the tests. The server runs in its own
// process group and, on Linux, with a parent-death signal, so a test binary
// that is killed (timeout, SIGKILL) leaves no moto_server behind.
//
// Isolation: moto keeps one state per server, shared by every test of the
// process. Give each test its own resource names (as the kumo tests do).
// Reset (POST /moto-api/reset) wipes everything, so call it only from a
// package whose tests own the server alone and do not run in parallel.
//
// If moto_server is not installed the calling test fails — never skips — with
// the command that installs it (InstallHint). EVDEPLOY_MOTO_URL, when set,
// points the tests at an already running moto server instead.
//
// It imports no other evdeploy package.
package motoserver
