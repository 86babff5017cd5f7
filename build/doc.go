// Package build turns a function's source folder into a deterministic Lambda
// package: Go functions are cross-compiled into bootstrap, Python and Node folders
// are zipped; every zip has sorted entries, fixed timestamps and normalised modes,
// so the same inputs give the same bytes (and the same CodeSha256) everywhere.
// Builds are cached by a content hash of their inputs under .evdeploy/build/.
//
// build imports no other evdeploy package.
package build
