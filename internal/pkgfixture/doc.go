// Package pkgfixture writes function folders with real dependencies for
// tests, without a package registry: an npm package as a local tarball
// (with the package-lock.json npm would write for it) and Python wheels in a
// --find-links folder or named by path. PyPI is not reachable from the test
// machines, and tests must not depend on a registry anyway. Everything it
// writes is deterministic (fixed times, sorted entries).
package pkgfixture
