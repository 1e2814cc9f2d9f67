package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/cert/certtest"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/creditchain/creditchain/services/signer"
)

// certFiles writes the fixture's certificate as a .jws file and its trust
// bundle as trust.json.
func certFiles(t *testing.T) (f *certtest.Fixture, c *cert.Certificate, jwsPath, trustPath string) {
	t.Helper()
	f = certtest.New(t, suite.Ed25519)
	c = f.Issue(t)
	dir := t.TempDir()
	jwsPath, trustPath = filepath.Join(dir, "certificate.jws"), filepath.Join(dir, "trust.json")
	tj, _ := json.Marshal(f.Trust)
	if err := os.WriteFile(jwsPath, []byte(c.JWS+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trustPath, tj, 0o644); err != nil {
		t.Fatal(err)
	}
	return f, c, jwsPath, trustPath
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCertVerifyOffline(t *testing.T) {
	f, c, jwsPath, trustPath := certFiles(t)
	// Flags after and before FILE.
	for _, args := range [][]string{{"cert", "verify", jwsPath, "--trust", trustPath}, {"cert", "verify", "--trust", trustPath, jwsPath}} {
		code, out, errs := runCmd(t, args...)
		if code != 0 || !strings.Contains(out, "certificate "+c.CertNo) || !strings.HasSuffix(out, "valid\n") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		for _, check := range []string{"signature", "inclusion", "block_hash", "quorum"} {
			if !strings.Contains(out, "ok   "+check) {
				t.Errorf("output lacks check %s:\n%s", check, out)
			}
		}
	}
	// The query API's JSON and the PDF hold the same certificate.
	api, _ := json.Marshal(map[string]string{"cert_no": c.CertNo, "status": "valid", "jws": c.JWS})
	font, err := signer.FindFont("")
	if err != nil {
		t.Fatal(err)
	}
	fb, err := signer.LoadFont(font)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := signer.RenderPDF(signer.PDFInput{Cert: c, PortalURL: "http://portal", Font: fb})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"cert.json": api, "cert.pdf": pdf} {
		if code, out, errs := runCmd(t, "cert", "verify", writeFile(t, name, data), "--trust", trustPath); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, code, out, errs)
		}
	}
	// --json prints the result document.
	code, out, _ := runCmd(t, "cert", "verify", jwsPath, "--trust", trustPath, "--json")
	var res cert.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Valid || res.CertNo != c.CertNo || len(res.Checks) < 8 {
		t.Fatalf("--json: exit %d %s", code, out)
	}

	// A changed byte, an unknown key, a bare credential: exit 1 with the reason.
	parts := strings.Split(c.JWS, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload[len(payload)/2] ^= 0x01
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	bare, _ := json.Marshal(c.Credential)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"changed byte": {[]byte(tampered), "signature: the JWS signature does not verify"},
		"unknown key":  {[]byte(f.SignAs(t, certtest.RecorderID(1), []byte(`{}`))), "unknown issuer key"},
		"bare":         {bare, "carries no signature"},
	}
	for name, tc := range cases {
		code, _, errs := runCmd(t, "cert", "verify", writeFile(t, "x", tc.data), "--trust", trustPath)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", name, code, errs, tc.want)
		}
	}
	// A quorum short: the recorders' cosignatures cut to two of four.
	var doc map[string]any
	_ = json.Unmarshal([]byte(mustDecode(t, parts[1])), &doc)
	blk := doc["credentialSubject"].(map[string]any)["ledger"].(map[string]any)["block"].(map[string]any)
	blk["cosignatures"] = blk["cosignatures"].([]any)[:2]
	short, _ := json.Marshal(doc)
	if code, _, errs := runCmd(t, "cert", "verify", writeFile(t, "q.jws", []byte(f.Resign(t, short))), "--trust", trustPath); code != 1 || !strings.Contains(errs, "quorum") {
		t.Fatalf("short quorum: exit %d %s", code, errs)
	}
	// Usage errors.
	for _, args := range [][]string{{"cert", "verify", jwsPath}, {"cert", "verify", "--trust", trustPath}, {"cert", "verify", "a", "b", "--trust", trustPath}, {"cert"}, {"cert", "frobnicate"}} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCertVerifyOnline runs --online against a small stand-in for the
// query service's GET /v1/certificates/{cert_no} and /v1/ledger/trust: the
// client side of the contract, which the real query service serves.
func TestCertVerifyOnline(t *testing.T) {
	f, c, jwsPath, trustPath := certFiles(t)
	var mu sync.Mutex
	status, served := "valid", c.JWS
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/certificates/" + c.CertNo:
			if status == "" {
				http.Error(w, `{"error":{"code":"not_found","message":"no such certificate"}}`, http.StatusNotFound)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"cert_no": c.CertNo, "status": status, "jws": served})
		case "/v1/ledger/trust":
			_ = json.NewEncoder(w).Encode(f.Trust)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	set := func(s, j string) { mu.Lock(); status, served = s, j; mu.Unlock() }

	code, out, errs := runCmd(t, "cert", "verify", jwsPath, "--trust", trustPath, "--online", srv.URL)
	if code != 0 || !strings.Contains(out, "ok   online") {
		t.Fatalf("valid online: exit %d\n%s%s", code, out, errs)
	}
	// Without --trust the bundle comes from the service.
	if code, out, errs := runCmd(t, "cert", "verify", "--online", srv.URL+"/", jwsPath); code != 0 {
		t.Fatalf("trust from the service: exit %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct {
		status, jws, want string
	}{
		{"revoked", c.JWS, "has been revoked"},
		{"", c.JWS, "not found"},
		{"valid", c.JWS[:len(c.JWS)-2] + "AA", "holds another certificate"},
	} {
		set(tc.status, tc.jws)
		code, out, errs := runCmd(t, "cert", "verify", jwsPath, "--online", srv.URL, "--trust", trustPath)
		if code != 1 || !strings.Contains(errs, tc.want) || !strings.Contains(out, "FAIL online") {
			t.Errorf("status %q: exit %d, stderr %q, want %q\n%s", tc.status, code, errs, tc.want, out)
		}
	}
	// A service that is down is a failure, not a pass.
	srv.Close()
	if code, _, _ := runCmd(t, "cert", "verify", jwsPath, "--online", srv.URL, "--trust", trustPath); code != 1 {
		t.Fatalf("unreachable service: exit %d", code)
	}
}

// TestCertRevoke checks the client side of certificate.revoke against a
// stand-in intake: the envelope it posts is a signed certificate.revoke
// by the key's institution, and the command reports the outcome.
func TestCertRevoke(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	k := f.Keys[certtest.CenterID]
	kf := suite.NewKeyFile(certtest.CenterID, k)
	keyPath := filepath.Join(t.TempDir(), "key.json")
	if err := kf.Save(keyPath); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var posted *txn.Envelope
	outcome := map[string]any{"status": "committed", "height": 7}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPost && r.URL.Path == "/v1/transactions" {
			body, _ := io.ReadAll(r.Body)
			sub, aerr := txn.DecodeSubmission(body)
			if aerr != nil {
				http.Error(w, aerr.Error(), http.StatusBadRequest)
				return
			}
			posted = sub.Tx
			id, _ := sub.Tx.ID(f.S)
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(map[string]string{"tx_id": id, "status": "pending"})
			return
		}
		if posted == nil {
			http.NotFound(w, r)
			return
		}
		if id, _ := posted.ID(f.S); r.URL.Path == "/v1/transactions/"+id {
			st := map[string]any{"tx_id": id}
			for k, v := range outcome {
				st[k] = v
			}
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	network := writeFile(t, "network.json", []byte(`{"chain_id":"`+certtest.ChainID+`","crypto_suite":"ed25519","intake_url":"`+srv.URL+`"}`))

	code, out, errs := runCmd(t, "cert", "revoke", "CC-2026-0123456789ABCDEF", "--reason", "签发错误", "--key", keyPath, "--network", network)
	if code != 0 || !strings.Contains(errs, "revoked at height 7") {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, errs)
	}
	if posted.Type != txn.TypeCertificateRevoke || posted.Submitter != certtest.CenterID || posted.Chain != certtest.ChainID {
		t.Fatalf("posted %+v", posted)
	}
	if strings.TrimSpace(out) != mustID(t, f, posted) {
		t.Fatalf("stdout %q is not the tx id", out)
	}
	if err := posted.VerifySignature(f.S, k.Public); err != nil {
		t.Fatal(err)
	}
	var p txn.CertificateRevoke
	if err := json.Unmarshal(posted.Payload, &p); err != nil || p.CertNo != "CC-2026-0123456789ABCDEF" || p.Reason != "签发错误" {
		t.Fatalf("payload %s", posted.Payload)
	}
	// A rejection is exit 1 with the ledger's reason.
	mu.Lock()
	outcome = map[string]any{"status": "rejected", "reason": "unknown_certificate"}
	mu.Unlock()
	code, _, errs = runCmd(t, "cert", "revoke", "--key", keyPath, "--chain", certtest.ChainID, "--intake", srv.URL, "CC-2026-0123456789ABCDEF", "--reason", "x")
	if code != 1 || !strings.Contains(errs, "unknown_certificate") {
		t.Fatalf("rejected revoke: exit %d %s", code, errs)
	}
	// Not a certificate number, or no reason: refused before anything is sent.
	if code, _, errs := runCmd(t, "cert", "revoke", "CC-1", "--reason", "x", "--key", keyPath, "--network", network); code != 1 || !strings.Contains(errs, "not a certificate number") {
		t.Fatalf("bad number: exit %d %s", code, errs)
	}
	if code, _, _ := runCmd(t, "cert", "revoke", "CC-2026-0123456789ABCDEF", "--key", keyPath, "--network", network); code != 2 {
		t.Fatalf("no reason: exit %d", code)
	}
}

func mustID(t *testing.T, f *certtest.Fixture, e *txn.Envelope) string {
	t.Helper()
	id, err := e.ID(f.S)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
