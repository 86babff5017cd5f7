package localstack

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Custom domains for HTTP APIs, which kumo lacks (its router has no
// /v2/domainnames: the requests fall through to S3, and a DNS-validated
// certificate stays PENDING_VALIDATION forever). The engine:
//   - serves API Gateway v2 CreateDomainName, GetDomainName(s),
//     UpdateDomainName, DeleteDomainName and the API mapping calls itself,
//     keeping them in $KUMO_DATA_DIR (so they survive a restart like what
//     kumo keeps);
//   - answers DescribeCertificate and ListCertificates with requested
//     certificates ISSUED: there is no DNS to validate locally, and no wait;
//   - serves each API under its domains: a request whose Host is a domain
//     name (api.example.com, or api.example.com.localhost, which resolves to
//     this machine) reaches the mapped API with the mapping's base path
//     stripped, as API Gateway does.

// domainsFile is where the domains are kept in kumo's data folder.
const domainsFile = "evdeploy-domains.json"

type domainConfig struct {
	APIGatewayDomainName string `json:"apiGatewayDomainName,omitempty"`
	CertificateArn       string `json:"certificateArn,omitempty"`
	DomainNameStatus     string `json:"domainNameStatus,omitempty"`
	EndpointType         string `json:"endpointType,omitempty"`
	HostedZoneID         string `json:"hostedZoneId,omitempty"`
	SecurityPolicy       string `json:"securityPolicy,omitempty"`
}

type apiMapping struct {
	APIID         string `json:"apiId"`
	APIMappingID  string `json:"apiMappingId"`
	APIMappingKey string `json:"apiMappingKey,omitempty"`
	Stage         string `json:"stage"`
}

type domainName struct {
	DomainName                    string            `json:"domainName"`
	DomainNameArn                 string            `json:"domainNameArn"`
	APIMappingSelectionExpression string            `json:"apiMappingSelectionExpression"`
	DomainNameConfigurations      []domainConfig    `json:"domainNameConfigurations"`
	Tags                          map[string]string `json:"tags,omitempty"`
	Mappings                      []apiMapping      `json:"-"`
}

// storedDomain is a domain as kept on disk (mappings included).
type storedDomain struct {
	domainName
	Mappings []apiMapping `json:"mappings"`
}

// localHostedZoneID stands for the hosted zone of the engine's domain
// targets (AWS reports the region's API Gateway zone).
const localHostedZoneID = "Z0EVDEPLOYLOCAL"

type domains struct {
	next    http.Handler
	port    string // the engine's port, for the execute-api host
	dataDir string // "" keeps domains in memory only
	lg      *log.Logger

	mu      sync.Mutex
	domains map[string]*domainName
}

func newDomains(next http.Handler, endpoint, dataDir string, lg *log.Logger) *domains {
	d := &domains{next: next, dataDir: dataDir, lg: lg, domains: map[string]*domainName{}}
	if u, err := url.Parse(endpoint); err == nil {
		d.port = u.Port()
	}
	d.load()
	return d
}

func (d *domains) load() {
	if d.dataDir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(d.dataDir, domainsFile))
	if err != nil {
		return
	}
	var stored []storedDomain
	if err := json.Unmarshal(b, &stored); err != nil {
		d.lg.Printf("domains: ignoring %s: %v", domainsFile, err)
		return
	}
	for _, s := range stored {
		dn := s.domainName
		dn.Mappings = s.Mappings
		d.domains[dn.DomainName] = &dn
	}
}

// save writes the domains; called with mu held.
func (d *domains) save() {
	if d.dataDir == "" {
		return
	}
	stored := make([]storedDomain, 0, len(d.domains))
	for _, dn := range d.domains {
		stored = append(stored, storedDomain{domainName: *dn, Mappings: dn.Mappings})
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].DomainName < stored[j].DomainName })
	b, _ := json.MarshalIndent(stored, "", "  ")
	p := filepath.Join(d.dataDir, domainsFile)
	if err := os.MkdirAll(d.dataDir, 0o755); err != nil {
		d.lg.Printf("domains: %v", err)
		return
	}
	if err := os.WriteFile(p+".tmp", b, 0o644); err == nil {
		err = os.Rename(p+".tmp", p)
		if err != nil {
			d.lg.Printf("domains: %v", err)
		}
	}
}

func (d *domains) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v2/domainnames"):
		d.control(w, r)
	case strings.HasPrefix(r.URL.Path, "/v2/tags/") && strings.Contains(r.URL.Path, "/domainnames/"):
		d.tags(w, r)
	case r.Header.Get("X-Amz-Target") == "CertificateManager.DescribeCertificate" ||
		r.Header.Get("X-Amz-Target") == "CertificateManager.ListCertificates":
		issued(d.next, w, r)
	default:
		if !d.serve(w, r) {
			d.next.ServeHTTP(w, r)
		}
	}
}

func writeAPIGWError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func writeDomainJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// requestRegion is the region of a signed request (its credential scope).
func requestRegion(r *http.Request) string {
	if m := regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/`).FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return "us-east-1"
}

func randomID(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// control serves /v2/domainnames[/{name}[/apimappings[/{id}]]].
func (d *domains) control(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v2/domainnames"), "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i])
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost:
		var in domainName
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.DomainName == "" {
			writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", "a domain name is required")
			return
		}
		in.DomainName = strings.ToLower(strings.TrimSuffix(in.DomainName, "."))
		if d.domains[in.DomainName] != nil {
			writeAPIGWError(w, http.StatusConflict, "ConflictException", "The domain name you provided already exists.")
			return
		}
		sum := sha256.Sum256([]byte(in.DomainName))
		region := requestRegion(r)
		for i := range in.DomainNameConfigurations {
			c := &in.DomainNameConfigurations[i]
			c.APIGatewayDomainName = "d-" + hex.EncodeToString(sum[:])[:10] + ".execute-api." + region + ".localhost"
			c.HostedZoneID = localHostedZoneID
			c.DomainNameStatus = "AVAILABLE"
			if c.EndpointType == "" {
				c.EndpointType = "REGIONAL"
			}
		}
		in.DomainNameArn = fmt.Sprintf("arn:aws:apigateway:%s::/domainnames/%s", region, in.DomainName)
		in.APIMappingSelectionExpression = "$request.basepath"
		d.domains[in.DomainName] = &in
		d.save()
		writeDomainJSON(w, http.StatusCreated, in)
	case len(parts) == 0 && r.Method == http.MethodGet:
		items := make([]*domainName, 0, len(d.domains))
		for _, dn := range d.domains {
			items = append(items, dn)
		}
		sort.Slice(items, func(i, j int) bool { return items[i].DomainName < items[j].DomainName })
		writeDomainJSON(w, http.StatusOK, map[string]any{"items": items})
	case len(parts) >= 1:
		dn := d.domains[strings.ToLower(parts[0])]
		if dn == nil {
			writeAPIGWError(w, http.StatusNotFound, "NotFoundException", "Invalid domain name identifier specified")
			return
		}
		if len(parts) == 1 {
			d.domain(w, r, dn)
			return
		}
		if parts[1] != "apimappings" {
			writeAPIGWError(w, http.StatusNotFound, "NotFoundException", "unknown path")
			return
		}
		d.mappings(w, r, dn, parts[2:])
	default:
		writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", "unsupported")
	}
}

func (d *domains) domain(w http.ResponseWriter, r *http.Request, dn *domainName) {
	switch r.Method {
	case http.MethodGet:
		writeDomainJSON(w, http.StatusOK, dn)
	case http.MethodDelete:
		delete(d.domains, dn.DomainName)
		d.save()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		var in domainName
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", err.Error())
			return
		}
		for i, c := range in.DomainNameConfigurations {
			if i < len(dn.DomainNameConfigurations) {
				old := &dn.DomainNameConfigurations[i]
				if c.CertificateArn != "" {
					old.CertificateArn = c.CertificateArn
				}
				if c.SecurityPolicy != "" {
					old.SecurityPolicy = c.SecurityPolicy
				}
			}
		}
		d.save()
		writeDomainJSON(w, http.StatusOK, dn)
	default:
		writeAPIGWError(w, http.StatusMethodNotAllowed, "BadRequestException", "unsupported method")
	}
}

func (d *domains) mappings(w http.ResponseWriter, r *http.Request, dn *domainName, rest []string) {
	if len(rest) == 0 {
		switch r.Method {
		case http.MethodPost:
			var in apiMapping
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.APIID == "" || in.Stage == "" {
				writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", "apiId and stage are required")
				return
			}
			in.APIMappingKey = strings.Trim(in.APIMappingKey, "/")
			for _, m := range dn.Mappings {
				if m.APIMappingKey == in.APIMappingKey {
					writeAPIGWError(w, http.StatusConflict, "ConflictException", "API mapping already exists for that key")
					return
				}
			}
			in.APIMappingID = randomID(6)
			dn.Mappings = append(dn.Mappings, in)
			d.save()
			writeDomainJSON(w, http.StatusCreated, in)
		case http.MethodGet:
			items := append([]apiMapping{}, dn.Mappings...)
			writeDomainJSON(w, http.StatusOK, map[string]any{"items": items})
		default:
			writeAPIGWError(w, http.StatusMethodNotAllowed, "BadRequestException", "unsupported method")
		}
		return
	}
	i := -1
	for k, m := range dn.Mappings {
		if m.APIMappingID == rest[0] {
			i = k
		}
	}
	if i < 0 {
		writeAPIGWError(w, http.StatusNotFound, "NotFoundException", "Invalid mapping identifier specified")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeDomainJSON(w, http.StatusOK, dn.Mappings[i])
	case http.MethodDelete:
		dn.Mappings = append(dn.Mappings[:i], dn.Mappings[i+1:]...)
		d.save()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		var in apiMapping
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", err.Error())
			return
		}
		m := &dn.Mappings[i]
		if in.APIID != "" {
			m.APIID = in.APIID
		}
		if in.Stage != "" {
			m.Stage = in.Stage
		}
		d.save()
		writeDomainJSON(w, http.StatusOK, *m)
	default:
		writeAPIGWError(w, http.StatusMethodNotAllowed, "BadRequestException", "unsupported method")
	}
}

// tags serves TagResource, UntagResource and GetTags for domain names.
func (d *domains) tags(w http.ResponseWriter, r *http.Request) {
	arn, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/v2/tags/"))
	name := arn[strings.LastIndex(arn, "/")+1:]
	d.mu.Lock()
	defer d.mu.Unlock()
	dn := d.domains[name]
	if dn == nil {
		writeAPIGWError(w, http.StatusNotFound, "NotFoundException", "Invalid domain name identifier specified")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeDomainJSON(w, http.StatusOK, map[string]any{"tags": dn.Tags})
	case http.MethodPost:
		var in struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeAPIGWError(w, http.StatusBadRequest, "BadRequestException", err.Error())
			return
		}
		if dn.Tags == nil {
			dn.Tags = map[string]string{}
		}
		for k, v := range in.Tags {
			dn.Tags[k] = v
		}
		d.save()
		writeDomainJSON(w, http.StatusCreated, map[string]any{})
	case http.MethodDelete:
		for _, k := range r.URL.Query()["tagKeys"] {
			delete(dn.Tags, k)
		}
		d.save()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeAPIGWError(w, http.StatusMethodNotAllowed, "BadRequestException", "unsupported method")
	}
}

// serve routes a request for a domain the engine knows to the mapped API,
// and reports whether it did. The longest mapping key that is a whole path
// prefix wins; the key is stripped from the path.
func (d *domains) serve(w http.ResponseWriter, r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	host = strings.TrimSuffix(host, ".localhost")
	if !strings.Contains(host, ".") {
		return false
	}
	d.mu.Lock()
	dn := d.domains[host]
	var best *apiMapping
	rest := r.URL.Path
	if dn != nil {
		for i := range dn.Mappings {
			m := &dn.Mappings[i]
			p := "/" + m.APIMappingKey
			switch {
			case m.APIMappingKey == "":
				if best == nil {
					best, rest = m, r.URL.Path
				}
			case r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/"):
				if best == nil || len(m.APIMappingKey) > len(best.APIMappingKey) {
					best, rest = m, strings.TrimPrefix(r.URL.Path, p)
				}
			}
		}
	}
	var target apiMapping
	if best != nil {
		target = *best
	}
	d.mu.Unlock()
	if dn == nil {
		return false
	}
	if best == nil {
		writeAPIGWError(w, http.StatusNotFound, "NotFoundException", "Not Found")
		return true
	}
	if rest == "" {
		rest = "/"
	}
	r2 := r.Clone(r.Context())
	r2.Host = target.APIID + ".execute-api.localhost:" + d.port
	r2.URL.Path, r2.URL.RawPath = rest, ""
	r2.RequestURI = ""
	d.next.ServeHTTP(w, r2)
	return true
}

// issued answers DescribeCertificate and ListCertificates with every
// certificate waiting for DNS validation shown ISSUED.
func issued(next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			markIssued(doc)
			if b, err := json.Marshal(doc); err == nil {
				body = b
			}
		}
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

func markIssued(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if (k == "Status" || k == "ValidationStatus") && e == "PENDING_VALIDATION" {
				if k == "Status" {
					x[k] = "ISSUED"
				} else {
					x[k] = "SUCCESS"
				}
				continue
			}
			markIssued(e)
		}
		if _, ok := x["Status"]; ok && x["Status"] == "ISSUED" {
			if _, has := x["IssuedAt"]; !has {
				x["IssuedAt"] = float64(time.Now().Unix())
			}
		}
	case []any:
		for _, e := range x {
			markIssued(e)
		}
	}
}
