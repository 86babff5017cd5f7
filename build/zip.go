package build

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"sync"
)

// Zip format decisions; changing any of them changes every package's bytes, so
// bump formatVersion (part of every cache key) with them.
const (
	formatVersion = "evdeploy-zip/1"
	// deflateLevel is fixed so that the bytes do not depend on a default.
	deflateLevel = 6
	// dosDate1980 is 1980-01-01 in MS-DOS date format ((year-1980)<<9 | month<<5 | day),
	// the zip epoch; the time field is 00:00:00.
	dosDate1980 = 0<<9 | 1<<5 | 1
)

var flatePool = sync.Pool{New: func() any {
	fw, err := flate.NewWriter(nil, deflateLevel)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return fw
}}

// zipEntry is one file in a package: read from Path, or Data when Path is "".
type zipEntry struct {
	Name string // slash-separated
	Exec bool
	Path string
	Data []byte
}

// writeZip writes entries as a deterministic zip: sorted by name, fixed
// timestamps, modes 0644/0755 only, no directory entries, no extra fields and
// no data descriptors (sizes and CRC are in the local headers), deflated at a
// fixed level unless deflate would not make the entry smaller.
func writeZip(w io.Writer, entries []zipEntry) error {
	entries = append([]zipEntry(nil), entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	for i := 1; i < len(entries); i++ {
		if entries[i].Name == entries[i-1].Name {
			return fmt.Errorf("duplicate zip entry %q", entries[i].Name)
		}
	}
	zw := zip.NewWriter(w)
	var comp bytes.Buffer
	fw := flatePool.Get().(*flate.Writer) // about 1 MB of state: reuse it
	defer flatePool.Put(fw)
	var err error
	for _, e := range entries {
		data := e.Data
		if e.Path != "" {
			if data, err = os.ReadFile(e.Path); err != nil {
				return err
			}
		}
		comp.Reset()
		fw.Reset(&comp)
		if _, err := fw.Write(data); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		fh := &zip.FileHeader{
			Name:               e.Name,
			Method:             zip.Deflate,
			ModifiedDate:       dosDate1980,
			CRC32:              crc32.ChecksumIEEE(data),
			UncompressedSize64: uint64(len(data)),
		}
		mode := os.FileMode(0o644)
		if e.Exec {
			mode = 0o755
		}
		fh.SetMode(mode)
		body := comp.Bytes()
		if len(body) >= len(data) {
			fh.Method = zip.Store
			body = data
		}
		fh.CompressedSize64 = uint64(len(body))
		out, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		if _, err := out.Write(body); err != nil {
			return err
		}
	}
	return zw.Close()
}
