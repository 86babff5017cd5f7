// Package state records what evdeploy has deployed: a versioned JSON document per
// stage with a serial and a lineage, written atomically after every change, an
// intent journal that makes interrupted creates recoverable, and a lock so two
// applies cannot run at once. Backends: a local file (default) and S3 (through a
// narrow interface, so this package does not import the AWS SDK).
//
// state imports no other evdeploy package.
package state
