// Package state records what evdeploy has deployed: a versioned JSON document per
// stage with a serial and a lineage, written atomically after every change, an
// intent journal that makes interrupted creates recoverable, and a lock so two
// applies cannot run at once. Backends: a local file (default) and S3 (through a
// narrow interface, so this package does not import the AWS SDK).
//
// The pieces: Decode and Encode (the versioned codec; docs/state.md describes
// the format), Backend with Local and S3 (ObjectStore is the S3 side, built in
// providers/aws; MemoryStore is an in-memory one for tests), and Session, the
// apply executor's handle, which writes the document after every change.
//
// state imports no other evdeploy package.
package state
