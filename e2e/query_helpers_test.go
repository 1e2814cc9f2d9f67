package e2e

// Helpers of the query service tests: a client that validates every answer
// against the served OpenAPI document, and proof checks.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/apikeycmd"
	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/transparency-dev/merkle"
)

// qclient calls one query service and checks every answer against the
// OpenAPI document that service serves.
type qclient struct {
	t      *testing.T
	base   string
	key    string // bearer token; "" for anonymous
	router routers.Router
	// validated counts the answers checked against the document, shared
	// by the clones withKey makes.
	validated *int
}

func newQClient(t *testing.T, base string) *qclient {
	t.Helper()
	r := get(t, base+"/openapi.json")
	if r.Status != 200 {
		t.Fatalf("GET /openapi.json: %d", r.Status)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Raw)
	if err != nil {
		t.Fatalf("load served OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served OpenAPI document is invalid: %v", err)
	}
	// The document names no server: it is served by every institution.
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &qclient{t: t, base: base, router: router, validated: new(int)}
}

func (c *qclient) withKey(key string) *qclient {
	cc := *c
	cc.key = key
	return &cc
}

// do sends a request and, when the path is one the document describes,
// validates the status, headers and body against it.
func (c *qclient) do(method, path string, body []byte) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	if resp.StatusCode >= 500 && resp.StatusCode != 503 {
		c.t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out.Status != 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		c.t.Errorf("%s %s: error %d is not JSON: %q", method, path, out.Status, resp.Header.Get("Content-Type"))
	}
	if out.Status != 200 {
		if out.errorCode() == "" {
			c.t.Errorf("%s %s: %d without the contract's error body: %s", method, path, out.Status, raw)
		}
	}
	c.validate(req, body, resp, raw)
	return out
}

func (c *qclient) get(path string) response { c.t.Helper(); return c.do("GET", path, nil) }

func (c *qclient) validate(req *http.Request, body []byte, resp *http.Response, raw []byte) {
	c.t.Helper()
	vreq, _ := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(body))
	vreq.Header = req.Header.Clone()
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		// Only paths outside the API (a listing, a mistyped path) may be
		// undescribed, and those must be errors.
		if resp.StatusCode < 400 {
			c.t.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(raw)
	*c.validated++
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s: %d response does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, raw)
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keysOf(m); !slices.Equal(got, want) {
		t.Errorf("%s members %v, want %v", what, got, want)
	}
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func arr(v any) []any { a, _ := v.([]any); return a }

func personPayload(commitment, category string, start time.Time, term, docNo string) map[string]any {
	return map[string]any{
		"subject":  map[string]any{"kind": "person", "commitment": commitment},
		"category": category, "measures": []string{"credit_restriction"},
		"basis": map[string]any{"document_no": docNo, "decided_at": txn.FormatTime(start), "law": "社会信用体系建设法"},
		"start": txn.FormatTime(start), "term": term, "policy": category,
	}
}

// commit submits and waits until the transaction is committed.
func commit(t *testing.T, n *devnet.Network, s *signer, typ string, p any, personal *txn.Personal) string {
	t.Helper()
	env, id := s.sign(t, typ, p)
	if r := submit(t, n, env, personal); r.Status != 202 {
		t.Fatalf("submit %s: %d %s", typ, r.Status, r.Raw)
	}
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("%s not committed: %s", typ, r.Raw)
	}
	return id
}

func newSalt(t *testing.T) string {
	t.Helper()
	return nonce() + nonce() + nonce()[:16]
}

func decodeInclusion(t *testing.T, v any) merklelog.InclusionProof {
	t.Helper()
	raw, _ := json.Marshal(v)
	var p merklelog.InclusionProof
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("inclusion proof %s: %v", raw, err)
	}
	return p
}

// checkInclusion fetches the transaction's block (at height, or found from
// the leaf index when 0) and verifies the proof over its JCS leaf.
func checkInclusion(t *testing.T, c *qclient, h merkle.LogHasher, su suite.Suite, p merklelog.InclusionProof, height uint64) {
	t.Helper()
	if height == 0 {
		// Walk down from the head to the block whose leaves hold the index.
		head := c.get("/v1/ledger/head")
		height = uint64(obj(head.Body["header"])["height"].(float64))
		for height > 0 {
			hdr := obj(c.get(fmt.Sprintf("/v1/ledger/blocks/%d", height)).Body["header"])
			size, count := uint64(hdr["log_size"].(float64)), uint64(hdr["tx_count"].(float64))
			if p.LeafIndex >= size-count && p.LeafIndex < size {
				break
			}
			height--
		}
	}
	b := c.get(fmt.Sprintf("/v1/ledger/blocks/%d", height))
	var blk block.Block
	if err := json.Unmarshal(b.Raw, &blk); err != nil {
		t.Fatal(err)
	}
	pos := p.LeafIndex - (blk.Header.LogSize - uint64(blk.Header.TxCount))
	if pos >= uint64(len(blk.Txs)) {
		t.Fatalf("leaf %d is not in block %d", p.LeafIndex, height)
	}
	var env txn.Envelope
	if err := json.Unmarshal(blk.Txs[pos], &env); err != nil {
		t.Fatal(err)
	}
	if id, _ := env.ID(su); id != p.TxID {
		t.Fatalf("leaf %d is tx %s, proof names %s", p.LeafIndex, id, p.TxID)
	}
	leaves, err := block.Leaves(blk.Txs[pos : pos+1])
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(h, leaves[0]); err != nil {
		t.Fatalf("inclusion proof of %s does not verify: %v", p.TxID, err)
	}
	// A tampered proof must not.
	if len(p.Proof) > 0 {
		bad := p
		bad.Proof = slices.Clone(p.Proof)
		bad.Proof[0] = strings.Repeat("0", len(bad.Proof[0]))
		if bad.Verify(h, leaves[0]) == nil {
			t.Fatal("a tampered inclusion proof verifies")
		}
	}
}

// runAPIKey runs `creditchain apikey ARGS` in-process and checks its exit
// code; it returns stdout and stderr.
func runAPIKey(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := apikeycmd.Run(args, &stdout, &stderr); code != want {
		t.Fatalf("creditchain apikey %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// checkRetryAfter makes one more refused request and checks Retry-After.
func checkRetryAfter(t *testing.T, url, key string, lo, hi int) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || err != nil || s < lo || s > hi {
		t.Errorf("refusal: %d with Retry-After %q, want 429 and %d..%d", resp.StatusCode, resp.Header.Get("Retry-After"), lo, hi)
	}
}
