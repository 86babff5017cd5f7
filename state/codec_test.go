package state

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleDoc() *Document {
	return &Document{
		Version: FormatVersion,
		Serial:  7,
		Lineage: "0123456789abcdef0123456789abcdef",
		App:     "shop",
		Stage:   "dev",
		Target:  "local:http://127.0.0.1:4566",
		Resources: []Resource{
			{
				Addr: "queue.orders/aws_sqs_queue.main", Block: "queue.orders", Type: "aws_sqs_queue",
				ID: "https://sqs.us-east-1.amazonaws.com/000000000000/shop-dev-orders",
				Attrs: map[string]any{
					"name": "shop-dev-orders", "visibility_timeout": int64(30), "fifo": false,
					"ratio": 0.5, "tags": map[string]any{"app": "shop"}, "list": []any{"a", int64(2)},
				},
			},
			{
				Addr: "function.api/aws_lambda_function.main", Block: "function.api", Type: "aws_lambda_function",
				ID: "shop-dev-api", Attrs: map[string]any{"memory": int64(256), "policy": "<a&b>"},
				Deps: []string{"function.api/aws_iam_role.main"},
			},
		},
		Journal: []Intent{{
			Addr: "table.t/aws_dynamodb_table.main", Block: "table.t", Type: "aws_dynamodb_table", Name: "shop-dev-t",
			Attrs: map[string]any{"hash_key": "id"}, Started: time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC),
		}},
		Outputs: map[string]Output{
			"url":    {Value: "http://x"},
			"secret": {Value: map[string]any{"n": int64(1)}, Sensitive: true},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := map[string]*Document{
		"full":          sampleDoc(),
		"empty":         New("app", "dev"),
		"nil resources": {Version: FormatVersion, Lineage: "l", Stage: "s"},
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := Encode(doc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, data)
			}
			want := *doc
			// Decode sorts resources by address and never returns nil.
			want.Resources = append([]Resource{}, want.Resources...)
			sortResources(want.Resources)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			again, err := Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, again) {
				t.Errorf("encode is not stable:\n%s\n---\n%s", data, again)
			}
		})
	}
}

func sortResources(rs []Resource) {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if rs[j].Addr < rs[i].Addr {
				rs[i], rs[j] = rs[j], rs[i]
			}
		}
	}
}

// The encoded form is part of the contract (people read and diff state
// files): compare it with a golden file. Regenerate with -update.
func TestEncodeGolden(t *testing.T) {
	data, err := Encode(sampleDoc())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.json")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("Encode (-golden +got):\n%s", diff)
	}
}

func TestEncodeDoesNotModifyInput(t *testing.T) {
	d := sampleDoc()
	before := sampleDoc()
	if _, err := Encode(d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, d); diff != "" {
		t.Errorf("Encode changed its input (-before +after):\n%s", diff)
	}
}

func TestNewLineage(t *testing.T) {
	a, b := New("a", "dev"), New("a", "dev")
	if len(a.Lineage) != 32 || a.Lineage == b.Lineage {
		t.Errorf("lineages %q and %q: want two different 32-hex-digit ids", a.Lineage, b.Lineage)
	}
	if a.Version != FormatVersion || a.Serial != 0 {
		t.Errorf("New: version %d serial %d", a.Version, a.Serial)
	}
}

func TestDecodeNumbers(t *testing.T) {
	got, err := Decode([]byte(`{"version":1,"lineage":"l","stage":"s","resources":[
		{"addr":"a","type":"t","attrs":{"i":3,"f":3.0,"g":2.5,"big":1e300,"neg":-7,"nested":[{"x":1}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(3), "f": int64(3), "g": 2.5, "big": 1e300, "neg": int64(-7),
		"nested": []any{map[string]any{"x": int64(1)}}}
	if diff := cmp.Diff(want, got.Resources[0].Attrs); diff != "" {
		t.Errorf("attrs (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // substring of the error
	}{
		{"empty", "  \n", "document is empty"},
		{"syntax", "{\n  \"version\": 1,\n  \"serial\": x\n}", "invalid JSON at byte 30 (line 3, column 13): invalid character 'x'"},
		{"truncated", `{"version": 1, "lineage": "a`, "invalid JSON at byte 28 (line 1, column 29): document is truncated"},
		{"not an object", `[1,2]`, "invalid JSON at byte 1 (line 1, column 2)"},
		{"wrong type", `{"version":1,"lineage":"l","stage":"s","serial":"7"}`, `serial is a JSON string, want uint64`},
		{"trailing data", `{"version":1,"lineage":"l","stage":"s"} {}`, "unexpected data after the document"},
		{"no version", `{"lineage":"l"}`, `no "version" field`},
		{"version string", `{"version":"1"}`, `"version" is "1", want a whole number`},
		{"future version", `{"version":2,"something":"new"}`, "format version 2 was written by a newer evdeploy; this one reads versions up to 1"},
		{"zero version", `{"version":0}`, "invalid format version 0"},
		{"no lineage", `{"version":1,"stage":"s"}`, "no lineage"},
		{"no stage", `{"version":1,"lineage":"l"}`, "no stage"},
		{"no addr", `{"version":1,"lineage":"l","stage":"s","resources":[{"type":"t"}]}`, "resources[0] has no address"},
		{"no type", `{"version":1,"lineage":"l","stage":"s","resources":[{"addr":"a"}]}`, `resource "a" has no type`},
		{"duplicate", `{"version":1,"lineage":"l","stage":"s","resources":[{"addr":"a","type":"t"},{"addr":"a","type":"t"}]}`,
			`resource "a" is recorded twice (resources[0] and resources[1])`},
		{"duplicate intent", `{"version":1,"lineage":"l","stage":"s","journal":[{"addr":"a"},{"addr":"a"}]}`, `two intents for "a"`},
		{"huge number", `{"version":1,"lineage":"l","stage":"s","outputs":{"o":{"value":1e999}}}`, `output "o": number 1e999 is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", d)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Document)
		want   string
	}{
		{"future version", func(d *Document) { d.Version = FormatVersion + 1 }, "document version 2, this evdeploy writes version 1"},
		{"no lineage", func(d *Document) { d.Lineage = "" }, "no lineage"},
		{"no stage", func(d *Document) { d.Stage = "" }, "no stage"},
		{"duplicate address", func(d *Document) { d.Resources = append(d.Resources, d.Resources[0]) }, "is recorded twice"},
		{"resource without type", func(d *Document) { d.Resources[0].Type = "" }, "has no type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sampleDoc()
			tt.change(d)
			_, err := Encode(d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode: err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzDecode: no input panics, and whatever decodes re-encodes to bytes that
// decode to the same document (the codec is stable on everything it accepts).
func FuzzDecode(f *testing.F) {
	sample, err := Encode(sampleDoc())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`{"version":1,"lineage":"l","stage":"s"}`))
	f.Add([]byte(`{"version":1,"lineage":"l","stage":"s","resources":[{"addr":"a","type":"t","attrs":{"n":3.0,"m":[1,{"x":-0.0}]}}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"lineage":"l","stage":"s","outputs":{"o":{"value":1e400}}}`))
	f.Add([]byte(`{"version":1,"lineage":"l","stage":"s","journal":[{"addr":"a","started":"2026-11-26T21:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"lineage":"l","stage":"s","journal":[{"addr":"a","started":"bad"}]}`))
	f.Add([]byte(`{"version": 1, "serial": 18446744073709551616}`))
	f.Add([]byte("\xff\xfe{"))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			if d != nil {
				t.Fatal("Decode returned a document and an error")
			}
			return
		}
		enc, err := Encode(d)
		if err != nil {
			t.Fatalf("Encode of a decoded document: %v", err)
		}
		d2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("decode/encode/decode changed the document (-first +second):\n%s", diff)
		}
	})
}
