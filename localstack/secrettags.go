package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// secretTags supplies Secrets Manager's TagResource and UntagResource, which
// kumo lacks (InvalidAction): evdeploy tags what it owns and changes those
// tags on apply. kumo keeps the tags a secret was created with; the engine
// keeps the changes made since, per secret name, and merges them into
// DescribeSecret and ListSecrets answers. The changes live as long as the
// engine process (a restarted engine shows the creation tags again).
type secretTags struct {
	mu sync.Mutex
	// set and removed are the tag changes per secret name.
	set     map[string]map[string]string
	removed map[string]map[string]bool
}

func newSecretTags() *secretTags {
	return &secretTags{set: map[string]map[string]string{}, removed: map[string]map[string]bool{}}
}

const smTarget = "secretsmanager."

func (st *secretTags) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Header.Get("X-Amz-Target") {
		case smTarget + "TagResource", smTarget + "UntagResource":
			st.tag(w, req, next)
		case smTarget + "DescribeSecret":
			(&fidelity{}).fixJSON(w, req, next, func(m map[string]any) { st.merge(m) })
		case smTarget + "ListSecrets":
			(&fidelity{}).fixJSON(w, req, next, func(m map[string]any) {
				list, _ := m["SecretList"].([]any)
				for _, e := range list {
					if s, ok := e.(map[string]any); ok {
						st.merge(s)
					}
				}
			})
		case smTarget + "DeleteSecret":
			// A secret made again under the same name starts with its own tags.
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			var in struct{ SecretId string }
			_ = json.Unmarshal(body, &in)
			if name := st.name(req, next, in.SecretId); name != "" {
				st.mu.Lock()
				delete(st.set, name)
				delete(st.removed, name)
				st.mu.Unlock()
			}
			next.ServeHTTP(w, req)
		default:
			next.ServeHTTP(w, req)
		}
	})
}

// tag records a TagResource or UntagResource for an existing secret and
// answers as Secrets Manager does (an empty JSON object).
func (st *secretTags) tag(w http.ResponseWriter, req *http.Request, next http.Handler) {
	var in struct {
		SecretId string
		Tags     []struct{ Key, Value string }
		TagKeys  []string
	}
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.SecretId == "" {
		smError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	name := st.name(req, next, in.SecretId)
	if name == "" {
		smError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	st.mu.Lock()
	if st.set[name] == nil {
		st.set[name], st.removed[name] = map[string]string{}, map[string]bool{}
	}
	for _, t := range in.Tags {
		st.set[name][t.Key] = t.Value
		delete(st.removed[name], t.Key)
	}
	for _, k := range in.TagKeys {
		delete(st.set[name], k)
		st.removed[name][k] = true
	}
	st.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write([]byte("{}"))
}

// name resolves a SecretId (name or ARN) to the secret's name by asking
// kumo, "" when there is no such secret.
func (st *secretTags) name(req *http.Request, next http.Handler, id string) string {
	body, _ := json.Marshal(map[string]string{"SecretId": id})
	r, err := http.NewRequestWithContext(req.Context(), http.MethodPost, req.URL.String(), bytes.NewReader(body))
	if err != nil {
		return ""
	}
	r.Header = req.Header.Clone()
	r.Header.Set("X-Amz-Target", smTarget+"DescribeSecret")
	r.Header.Del("Content-Length")
	r.ContentLength = int64(len(body))
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, r)
	if buf.status != 0 && buf.status != http.StatusOK {
		return ""
	}
	var out struct{ Name string }
	_ = json.Unmarshal(buf.body.Bytes(), &out)
	return out.Name
}

// merge applies the recorded tag changes to one secret of an answer.
func (st *secretTags) merge(m map[string]any) {
	name, _ := m["Name"].(string)
	st.mu.Lock()
	set, removed := st.set[name], st.removed[name]
	st.mu.Unlock()
	if set == nil && removed == nil {
		return
	}
	tags := map[string]string{}
	list, _ := m["Tags"].([]any)
	for _, e := range list {
		if t, ok := e.(map[string]any); ok {
			k, _ := t["Key"].(string)
			v, _ := t["Value"].(string)
			tags[k] = v
		}
	}
	for k := range removed {
		delete(tags, k)
	}
	for k, v := range set {
		tags[k] = v
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"Key": k, "Value": tags[k]})
	}
	m["Tags"] = out
}

func smError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": strings.TrimSpace(msg)})
	_, _ = w.Write(b)
}
