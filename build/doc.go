// Package build turns a function's source folder into a deterministic Lambda
// package: Go functions are cross-compiled into bootstrap; Node and TypeScript
// handlers are bundled in-process with esbuild (after npm ci when
// node_modules does not match package-lock.json); Python folders are zipped
// with their requirements.txt installed by pip for Lambda's platform; other
// folders (and bundle = false) are zipped as they are. Every zip has sorted
// entries, fixed timestamps and normalised modes, so the same inputs give the
// same bytes (and the same CodeSha256) everywhere. Builds are cached by a
// content hash of their inputs under .evdeploy/build/, Python installs under
// .evdeploy/deps/.
//
// build imports no other evdeploy package.
package build
