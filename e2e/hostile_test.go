package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
)

// hostileBodies is a corpus of request bodies no endpoint should accept:
// malformed JSON, wrong types, huge fields, deep nesting, injection strings.
func hostileBodies(valid []byte) [][]byte {
	var out [][]byte
	add := func(s string) { out = append(out, []byte(s)) }
	for _, s := range []string{"", " ", "{", "}", "[", "[]", "null", "true", "0", "-1", "1e999", `"x"`, "{}", `{"tx":null}`,
		`{"tx":{}}`, `{"tx":[]}`, `{"tx":"a"}`, `{"tx":1}`, `{"code":null}`, `{"code":1}`, `{"code":[]}`, `{"code":{}}`,
		`{"jws":null}`, `{"jws":1}`, `{"jws":"a.b.c"}`, `{"jws":"..."}`, `{"code":"", "document_no":""}`,
		"\xff\xfe\xfd", "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":1,"a":2}`, `{"tx":{"chain":"x","chain":"y"}}`,
		`{"code":"91350200776049653A","extra":1}`, `{"code":"' OR 1=1 --"}`, `{"code":"<script>alert(1)</script>"}`,
		`{"code":"%"}`, `{"code":"*"}`, `{"code":"9135"}`, `{"code":"11010519491231002x"}`, `{"code":"../../etc/passwd"}`,
		`{"jws":"eyJhbGciOiJub25lIn0.e30."}`, `{"jws":"` + strings.Repeat("A", 300<<10) + `"}`} {
		add(s)
	}
	add(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))
	add(`{"tx":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000) + "}")
	add(`{"code":"` + strings.Repeat("9", 1<<20) + `"}`)
	add(string(bytes.Repeat([]byte("x"), 300<<10)))
	// Mutations of a valid body: every member turned into each wrong type.
	var m map[string]any
	if json.Unmarshal(valid, &m) == nil {
		if tx, ok := m["tx"].(map[string]any); ok {
			for k := range tx {
				for _, bad := range []any{nil, 1, true, []any{}, map[string]any{}, strings.Repeat("z", 300<<10), "' OR 1=1 --"} {
					c := map[string]any{}
					for kk, vv := range tx {
						c[kk] = vv
					}
					c[k] = bad
					b, _ := json.Marshal(map[string]any{"tx": c})
					out = append(out, b)
				}
				c := map[string]any{}
				for kk, vv := range tx {
					if kk != k {
						c[kk] = vv
					}
				}
				b, _ := json.Marshal(map[string]any{"tx": c})
				out = append(out, b)
			}
		}
	}
	return out
}

// hostilePaths are path segments for {tx_id}, {code}, {record_id},
// {height} and {cert_no}.
var hostilePaths = []string{"x", "-1", "0x10", "99999999999999999999999", "%00", "%2e%2e%2f%2e%2e", "' OR 1=1 --",
	"%3Cscript%3E", strings.Repeat("a", 64), strings.Repeat("A", 64), strings.Repeat("g", 64), strings.Repeat("0", 63),
	strings.Repeat("9", 5000), "1.5", "1e3", "%E4%B8%AD", "null", "*", "%25", "9135"}

// TestHostileInput sends a corpus of bad requests to every HTTP endpoint of
// intake and query: each gets a 4xx with the contract's error body, never a
// 5xx, and the services keep working.
func TestHostileInput(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	s := newSigner(n, court)
	env, _ := s.sign(t, "record.create", recordCreate(orgCode(t, 50000), "court-defaulter", "court-defaulter", time.Now().UTC().Add(-time.Hour), "P2Y"))
	valid, _ := json.Marshal(map[string]any{"tx": env})
	portal := n.PortalURL()
	if portal == "" {
		t.Fatal("no query service")
	}
	type endpoint struct {
		method, base, path string // path with %s for the hostile segment
	}
	eps := []endpoint{
		{"POST", n.IntakeURL, "/v1/transactions"},
		{"GET", n.IntakeURL, "/v1/transactions/%s"},
		{"GET", portal, "/v1/subjects/%s"},
		{"POST", portal, "/v1/subjects/lookup"},
		{"GET", portal, "/v1/records/%s"},
		{"GET", portal, "/v1/ledger/blocks/%s"},
		{"GET", portal, "/v1/ledger/proofs/inclusion/%s"},
		{"GET", portal, "/v1/ledger/proofs/consistency?from=%s&to=%s"},
		{"GET", portal, "/v1/certificates/%s"},
		{"POST", portal, "/v1/certificates/verify"},
		{"POST", portal, "/v1/certificates/request"},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	total := 0
	for _, ep := range eps {
		var reqs []*http.Request
		if ep.method == "POST" {
			for _, b := range hostileBodies(valid) {
				r, _ := http.NewRequest("POST", ep.base+ep.path, bytes.NewReader(b))
				r.Header.Set("Content-Type", "application/json")
				reqs = append(reqs, r)
			}
		} else {
			for _, seg := range hostilePaths {
				for _, q := range []string{"", "?size=-1", "?size=abc", "?size=99999999999999999999", "?limit=100&offset=0", "?prefix=91"} {
					path := ep.path
					if strings.Count(path, "%s") == 2 {
						path = fmt.Sprintf(path, url.QueryEscape(seg), "1")
						q = ""
					} else {
						path = fmt.Sprintf(path, seg)
					}
					r, err := http.NewRequest("GET", ep.base+path+q, nil)
					if err != nil {
						continue
					}
					reqs = append(reqs, r)
				}
			}
		}
		if len(reqs) < 100 {
			t.Fatalf("%s %s: only %d hostile requests in the corpus", ep.method, ep.path, len(reqs))
		}
		for _, r := range reqs {
			resp, err := client.Do(r)
			if err != nil {
				t.Fatalf("%s %s: %v", r.Method, r.URL, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			total++
			short := r.URL.String()
			if len(short) > 120 {
				short = short[:120] + "…"
			}
			// A well-formed verify request about a bad certificate is answered
			// 200 {"valid": false, ...}: that is the contract's verdict, not
			// an accepted input.
			if resp.StatusCode == 200 && strings.HasSuffix(r.URL.Path, "/certificates/verify") {
				var v struct {
					Valid  *bool  `json:"valid"`
					Reason string `json:"reason"`
				}
				if json.Unmarshal(raw, &v) != nil || v.Valid == nil || *v.Valid || v.Reason == "" {
					t.Errorf("%s %s: 200 without a negative verdict: %.200s", r.Method, short, raw)
				}
				continue
			}
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: status %d, want 4xx: %.200s", r.Method, short, resp.StatusCode, raw)
				continue
			}
			var body struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(raw, &body) != nil || body.Error == nil || body.Error.Code == "" || body.Error.Message == "" {
				t.Errorf("%s %s: %d without the contract's error body: %.200s", r.Method, short, resp.StatusCode, raw)
			}
		}
	}
	t.Logf("%d hostile requests to %d endpoints", total, len(eps))
	// Still alive: the valid transaction commits.
	if r := submit(t, n, env, nil); r.Status != 202 && r.Status != 409 {
		t.Fatalf("valid submission after the corpus: %d %s", r.Status, r.Raw)
	}
	id, _ := env.ID(s.suite)
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("after the corpus: %s", r.Raw)
	}
}
