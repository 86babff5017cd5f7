package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Layer is a layer block's folder to package.
type Layer struct {
	Addr   string // layer.deps, for messages and the file name
	Source string // folder, zipped as laid out (python/..., nodejs/node_modules/...)
}

// BuildLayer zips a layer's folder as it is laid out, with the same
// deterministic zip as function packages, so the same files give the same
// bytes and the same CodeSha256 (a new layer version only when they change).
// Nothing is installed or rearranged: Lambda mounts the zip at /opt, so a
// Python layer holds python/..., a Node layer nodejs/node_modules/....
func (b *Builder) BuildLayer(ctx context.Context, l Layer) (*Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files, err := collectFiles(l.Source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Addr, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: folder %s has no files to package", l.Addr, l.Source)
	}
	entries := make([]zipEntry, len(files))
	for i, f := range files {
		entries[i] = zipEntry{Name: f.Rel, Exec: f.Exec, Path: f.Abs}
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, entries); err != nil {
		return nil, fmt.Errorf("%s: %w", l.Addr, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	dir := b.CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, functionName(l.Addr)+".zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("%s: %w", l.Addr, err)
	}
	return &Artifact{
		Addr: l.Addr, Path: path, Size: int64(buf.Len()),
		SHA256: base64.StdEncoding.EncodeToString(sum[:]), Hex: hex.EncodeToString(sum[:]),
	}, nil
}
