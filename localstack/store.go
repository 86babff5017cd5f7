package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// The runner's store: deployed code kept across engine restarts (when
// KUMO_DATA_DIR is set), since kumo does not serve it back.

// storedFunction is what the runner keeps of a function besides its code.
type storedFunction struct {
	Region string `json:"region"`
}

// keep writes fn's code and region to the store.
func (r *runner) keep(fn *fnRun) {
	if r.store == "" || fn.zip == nil {
		return
	}
	if err := os.MkdirAll(r.store, 0o755); err != nil {
		r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
		return
	}
	meta, _ := json.Marshal(storedFunction{Region: fn.region})
	base := filepath.Join(r.store, url.PathEscape(fn.name))
	for _, f := range []struct {
		path string
		b    []byte
	}{{base + ".zip", fn.zip}, {base + ".json", meta}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.b, 0o644); err != nil {
			r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
			return
		}
		if err := os.Rename(tmp, f.path); err != nil {
			r.lg.Printf("function %s: keeping its code: %v", fn.name, err)
			return
		}
	}
}

func (r *runner) forget(name string) {
	if r.store == "" {
		return
	}
	base := filepath.Join(r.store, url.PathEscape(name))
	os.Remove(base + ".zip")
	os.Remove(base + ".json")
}

// restore starts the functions kept in the store that kumo still has.
func (r *runner) restore(ctx context.Context) {
	entries, err := os.ReadDir(r.store)
	if err != nil {
		return
	}
	for _, e := range entries {
		esc, ok := strings.CutSuffix(e.Name(), ".zip")
		if !ok {
			continue
		}
		name, err := url.PathUnescape(esc)
		if err != nil {
			continue
		}
		base := filepath.Join(r.store, esc)
		zipBytes, err := os.ReadFile(base + ".zip")
		if err != nil {
			continue
		}
		var meta storedFunction
		if b, err := os.ReadFile(base + ".json"); err == nil {
			_ = json.Unmarshal(b, &meta)
		}
		b, _, err := r.call(ctx, http.MethodGet, lambdaPrefix+"/"+url.PathEscape(name), "lambda", "", nil)
		if err != nil {
			r.lg.Printf("function %s: kept code but the function is gone (%v): forgotten", name, err)
			r.forget(name)
			continue
		}
		var got struct {
			Configuration lambdaConf `json:"Configuration"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			continue
		}
		if meta.Region == "" {
			meta.Region = "us-east-1"
		}
		r.mu.Lock()
		fn := &fnRun{name: name, zip: zipBytes, conf: got.Configuration, region: meta.Region}
		r.fns[name] = fn
		r.restartLocked(fn)
		r.mu.Unlock()
		r.lg.Printf("function %s: restored from the engine's store", name)
	}
}
