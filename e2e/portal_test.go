package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/creditchain/creditchain/services/query"
	certsigner "github.com/creditchain/creditchain/services/signer"
)

// portalFix is a network with an organization and a person whose records
// exited and got certificates, and an organization still listed.
type portalFix struct {
	n                   *devnet.Network
	portal, other       string // the credit center's query service, and the bank's
	store               *pgstore.Store
	tb                  *block.TrustBundle
	org, active         string // subject codes
	orgRec, personRec   string
	activeRec           string
	orgDocNo, personDoc string
	activeDocNo         string
	orgCert, personCert *certsigner.Document
	personCm            string
	courtS              *signer
}

// apiKey creates an API key with generous limits in institution i's
// replica.
func (f *portalFix) apiKey(t *testing.T, i int) string {
	t.Helper()
	ctx := context.Background()
	pool := f.n.Replicator(f.n.Institutions[i].Member.ID).Store().Pool
	token, _, err := query.CreateAPIKey(ctx, pool, "e2e portal", 100_000, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func newPortalFixture(t *testing.T) *portalFix {
	t.Helper()
	n := startNetwork(t, devnet.Options{PortalPort: -1})
	f := &portalFix{n: n, courtS: newSigner(n, court)}
	f.portal = n.QueryURLByID[n.Institutions[center].Member.ID]
	f.other = n.QueryURLByID[n.Institutions[bank].Member.ID]
	f.store = n.Replicator(n.Institutions[center].Member.ID).Store()
	start := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)

	f.org, f.active = orgCode(t, 601), orgCode(t, 602)
	orgPayload := recordCreate(f.org, "court-defaulter", "court-defaulter", start, "P2Y")
	f.orgDocNo = orgPayload["basis"].(map[string]any)["document_no"].(string)
	f.orgRec = certCommit(t, n, f.courtS, "record.create", orgPayload, nil)
	activePayload := recordCreate(f.active, "court-defaulter", "court-defaulter", start, "P2Y")
	f.activeDocNo = activePayload["basis"].(map[string]any)["document_no"].(string)
	f.activeRec = certCommit(t, n, f.courtS, "record.create", activePayload, nil)

	p := &txn.Personal{Name: personName, IDNumber: personID, Salt: newSalt(t)}
	cm, err := txn.Commitment(f.courtS.suite, p)
	if err != nil {
		t.Fatal(err)
	}
	f.personCm, f.personDoc = cm, "(2026)闽02执601号"
	f.personRec = certCommit(t, n, f.courtS, "record.create", personPayload(cm, "court-defaulter", start, "P2Y", f.personDoc), p)
	for _, rec := range []string{f.orgRec, f.personRec} {
		certCommit(t, n, f.courtS, "record.attest", map[string]any{"record_id": rec, "kind": "performed",
			"at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))}, nil)
		certExit(t, n, f.courtS, f.store, rec)
	}
	f.orgCert = certAnchored(t, f.store, f.orgRec, 60*time.Second)
	f.personCert = certAnchored(t, f.store, f.personRec, 60*time.Second)
	waitConverged(t, n, 30*time.Second)
	if f.tb, err = n.TrustBundle(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCertificateEndpoints runs the certificate endpoints of DESIGN 9.6
// against the issuer's query service (the portal) and another
// institution's, every answer validated against the OpenAPI document.
func TestCertificateEndpoints(t *testing.T) {
	f := newPortalFixture(t)
	ctx := context.Background()
	// API keys lift the anonymous limit, which the portal pages below use.
	c := newQClient(t, f.portal).withKey(f.apiKey(t, center))
	other := newQClient(t, f.other).withKey(f.apiKey(t, bank))
	orgNo, personNo := f.orgCert.CertNo, f.personCert.CertNo

	t.Run("record documents reference their certificate", func(t *testing.T) {
		for rec, no := range map[string]string{f.orgRec: orgNo, f.personRec: personNo} {
			r := c.get("/v1/records/" + rec)
			ref := obj(r.Body["certificate"])
			if r.Status != 200 || ref["cert_no"] != no || ref["url"] != "/v1/certificates/"+no {
				t.Fatalf("record %s: %d certificate %v, want %s", rec, r.Status, ref, no)
			}
			wantKeys(t, "certificate", ref, "cert_no", "url")
		}
		if r := c.get("/v1/records/" + f.activeRec); r.Body["certificate"] != nil {
			t.Errorf("an active record has a certificate: %s", r.Raw)
		}
	})

	t.Run("status and document", func(t *testing.T) {
		for _, d := range []*certsigner.Document{f.orgCert, f.personCert} {
			for _, qc := range []*qclient{c, other} {
				r := qc.get("/v1/certificates/" + d.CertNo)
				if r.Status != 200 || r.Body["cert_no"] != d.CertNo || r.Body["status"] != "valid" || r.Body["jws"] != d.JWS {
					t.Fatalf("%s at %s: %d %.300s", d.CertNo, qc.base, r.Status, r.Raw)
				}
				wantKeys(t, "certificate", r.Body, "cert_no", "status", "jws")
			}
		}
		if bytes.Contains(c.get("/v1/certificates/"+personNo).Raw, []byte(personName)) {
			t.Error("the person's certificate shows the full name")
		}
		// The PDF: from the issuer's service only.
		resp, err := http.Get(f.portal + "/v1/certificates/" + orgNo + ".pdf")
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(pdf, f.orgCert.PDF) || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("PDF: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(pdf))
		}
		if jws, err := certsigner.ExtractJWS(pdf); err != nil || jws != f.orgCert.JWS {
			t.Fatalf("the served PDF's attachment: %v", err)
		}
		if r := c.get("/v1/certificates/" + orgNo + ".pdf"); r.Status != 200 {
			t.Errorf("PDF through the validating client: %d", r.Status)
		}
		if r := other.get("/v1/certificates/" + orgNo + ".pdf"); r.Status != 404 || !strings.Contains(string(r.Raw), f.portal) {
			t.Errorf("PDF at another institution: %d %s, want 404 naming the issuer's URL", r.Status, r.Raw)
		}
		for _, path := range []string{"/v1/certificates/CC-2026-0000000000000000", "/v1/certificates/" + strings.ToLower(orgNo),
			"/v1/certificates/" + orgNo + ".txt", "/v1/certificates/nothing"} {
			if r := c.get(path); r.Status != 404 || r.errorCode() != "not_found" {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Raw)
			}
		}
	})

	t.Run("verify", func(t *testing.T) {
		for _, qc := range []*qclient{c, other} {
			r := qc.do("POST", "/v1/certificates/verify", jsonBody(t, map[string]string{"jws": f.orgCert.JWS}))
			if r.Status != 200 || r.Body["valid"] != true || r.Body["cert_no"] != orgNo || r.Body["reason"] != nil {
				t.Fatalf("verify at %s: %d %s", qc.base, r.Status, r.Raw)
			}
			checks := arr(r.Body["checks"])
			var names []string
			for _, ch := range checks {
				names = append(names, obj(ch)["name"].(string))
				if obj(ch)["ok"] != true {
					t.Errorf("check %v failed in a valid certificate", ch)
				}
			}
			want := "format issuer_key signature credential exit_tx inclusion block_hash epoch cosignatures quorum status"
			if strings.Join(names, " ") != want {
				t.Errorf("checks %v, want %s", names, want)
			}
		}
		// A changed byte of the payload breaks the signature.
		parts := strings.Split(f.orgCert.JWS, ".")
		bad := parts[0] + "." + parts[1][:20] + flipB64(parts[1][20]) + parts[1][21:] + "." + parts[2]
		r := c.do("POST", "/v1/certificates/verify", jsonBody(t, map[string]string{"jws": bad}))
		if r.Status != 200 || r.Body["valid"] != false || !strings.HasPrefix(fmt.Sprint(r.Body["reason"]), "signature") {
			t.Errorf("tampered: %d %s", r.Status, r.Raw)
		}
		last := obj(arr(r.Body["checks"])[len(arr(r.Body["checks"]))-1])
		if last["name"] != "signature" || last["ok"] != false {
			t.Errorf("tampered: last check %v", last)
		}
		for _, body := range []string{`{}`, `{"jws":1}`, `{"jws":"x","more":1}`, `not json`} {
			if r := c.do("POST", "/v1/certificates/verify", []byte(body)); r.Status != 400 || r.errorCode() != "malformed" {
				t.Errorf("verify %s: %d %s", body, r.Status, r.Raw)
			}
		}
		if r := c.do("POST", "/v1/certificates/verify", jsonBody(t, map[string]string{"jws": strings.Repeat("a", 300<<10)})); r.Status != 413 {
			t.Errorf("oversized verify: %d", r.Status)
		}
	})

	t.Run("self-service request", func(t *testing.T) {
		for _, qc := range []*qclient{c, other} {
			r := qc.do("POST", "/v1/certificates/request", jsonBody(t, map[string]string{"code": f.org, "document_no": f.orgDocNo}))
			if r.Status != 200 || r.Body["cert_no"] != orgNo || r.Body["jws"] != f.orgCert.JWS {
				t.Fatalf("request at %s: %d %.300s", qc.base, r.Status, r.Raw)
			}
			wantKeys(t, "request answer", r.Body, "cert_no", "jws", "pdf_url")
			pdfURL := r.Body["pdf_url"].(string)
			if qc == c && pdfURL != "/v1/certificates/"+orgNo+".pdf" || qc == other && pdfURL != f.portal+"/v1/certificates/"+orgNo+".pdf" {
				t.Errorf("pdf_url %s at %s", pdfURL, qc.base)
			}
		}
		// A person asks with the ID number: answered, masked, logged.
		r := c.do("POST", "/v1/certificates/request", jsonBody(t, map[string]string{"code": personID, "document_no": f.personDoc}))
		if r.Status != 200 || r.Body["cert_no"] != personNo || bytes.Contains(r.Raw, []byte(personID)) {
			t.Fatalf("person's request: %d %.300s", r.Status, r.Raw)
		}
		var logged int
		_ = f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE endpoint = 'POST /v1/certificates/request'
			AND subject = $1 AND commitments = $2`, personMasked, []string{f.personCm}).Scan(&logged)
		if logged != 1 {
			t.Errorf("%d access-log rows for the person's request, want 1", logged)
		}
		// Wrong case number, wrong code, a record not exited, an invalid
		// code: one answer, word for word.
		var first []byte
		for _, req := range []map[string]string{
			{"code": f.org, "document_no": f.orgDocNo + "x"}, {"code": f.active, "document_no": f.orgDocNo},
			{"code": f.active, "document_no": f.activeDocNo}, {"code": "91350200776049653B", "document_no": f.orgDocNo},
			{"code": personID, "document_no": f.orgDocNo}, {"code": f.org, "document_no": ""},
		} {
			r := c.do("POST", "/v1/certificates/request", jsonBody(t, req))
			if r.Status != 404 || r.errorCode() != "not_found" {
				t.Errorf("request %v: %d %s", req, r.Status, r.Raw)
			}
			if first == nil {
				first = r.Raw
			} else if !bytes.Equal(first, r.Raw) {
				t.Errorf("request %v answered %s, not the same as %s", req, r.Raw, first)
			}
		}
		for _, body := range []string{`{"code":"x"}`, `{"document_no":"x"}`, `{"code":"a","document_no":"b","extra":1}`} {
			if r := c.do("POST", "/v1/certificates/request", []byte(body)); r.Status != 400 || r.errorCode() != "malformed" {
				t.Errorf("request %s: %d %s", body, r.Status, r.Raw)
			}
		}
	})

	t.Run("portal pages without a browser", func(t *testing.T) {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.PostForm(f.portal+"/?lang=en", url.Values{"form": {"lookup"}, "code": {f.active}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/subjects/"+f.active+"?lang=en" {
			t.Fatalf("organization search: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		page := htmlPage(t, "GET", f.portal+"/subjects/"+f.active, nil)
		for _, want := range []string{`<html lang="zh-CN">`, `id="subject-status" class="badge badge-listed"`, "/records/" + f.activeRec, f.activeDocNo} {
			if !strings.Contains(page, want) {
				t.Errorf("subject page lacks %q", want)
			}
		}
		// A person is answered in place: the ID number stays out of URLs.
		page = htmlPage(t, "POST", f.portal+"/", url.Values{"form": {"lookup"}, "code": {personID}})
		if !strings.Contains(page, personMasked) || strings.Contains(page, personID) || strings.Contains(page, personName) {
			t.Errorf("person search page: masked %v, full ID %v, full name %v", strings.Contains(page, personMasked),
				strings.Contains(page, personID), strings.Contains(page, personName))
		}
		var logged int
		_ = f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE endpoint = 'POST /' AND subject = $1`, personMasked).Scan(&logged)
		if logged != 1 {
			t.Errorf("%d access-log rows for the portal's person search, want 1", logged)
		}
		page = htmlPage(t, "GET", f.portal+"/records/"+f.orgRec+"?lang=en", nil)
		for _, want := range []string{`<html lang="en">`, `id="record-data"`, `"record_id":"` + f.orgRec + `"`, orgNo, "/verify?cert=" + orgNo + "&amp;lang=en"} {
			if !strings.Contains(page, want) {
				t.Errorf("record page lacks %q", want)
			}
		}
		page = htmlPage(t, "POST", f.portal+"/", url.Values{"form": {"certificate"}, "code": {f.org}, "document_no": {f.orgDocNo}})
		if !strings.Contains(page, `id="cert-no">`+orgNo+`<`) {
			t.Errorf("certificate request page lacks the number")
		}
		if page := htmlPage(t, "GET", f.portal+"/ledger", nil); !strings.Contains(page, `id="head-height"`) || !strings.Contains(page, "court-defaulter") {
			t.Errorf("ledger page: %.500s", page)
		}
		if page := htmlPage(t, "GET", f.portal+"/verify?cert="+orgNo, nil); !strings.Contains(page, `value="`+orgNo+`"`) {
			t.Errorf("verify page does not carry the number")
		}
		resp, err = http.Get(f.portal + "/records/" + strings.Repeat("0", 64))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("unknown record page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	// Last: revocation changes what every other subtest relies on.
	t.Run("revoked", func(t *testing.T) {
		f.revoke(t, orgNo)
		for _, qc := range []*qclient{c, other} {
			if r := qc.get("/v1/certificates/" + orgNo); r.Status != 200 || r.Body["status"] != "revoked" || r.Body["jws"] != f.orgCert.JWS {
				t.Errorf("revoked at %s: %d %.200s", qc.base, r.Status, r.Raw)
			}
			r := qc.do("POST", "/v1/certificates/verify", jsonBody(t, map[string]string{"jws": f.orgCert.JWS}))
			if r.Body["valid"] != false || !strings.HasPrefix(fmt.Sprint(r.Body["reason"]), "revoked") {
				t.Errorf("verify of a revoked certificate at %s: %s", qc.base, r.Raw)
			}
		}
		if r := c.do("POST", "/v1/certificates/request", jsonBody(t, map[string]string{"code": f.org, "document_no": f.orgDocNo})); r.Status != 404 {
			t.Errorf("request of a revoked certificate: %d %.200s", r.Status, r.Raw)
		}
	})
	if n := *c.validated + *other.validated; n < 30 {
		t.Errorf("only %d answers validated against the OpenAPI document", n)
	}
}

// revoke revokes certificate no with the issuer's key and waits until
// every replica has the revocation.
func (f *portalFix) revoke(t *testing.T, no string) {
	t.Helper()
	in := &certsigner.Intake{URL: f.n.IntakeURL, Chain: f.n.Genesis.ChainID, Suite: f.courtS.suite, Key: f.n.Institutions[center].Key}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := certsigner.Revoke(ctx, in, no, "签发错误")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := in.Wait(ctx, id); err != nil || st.Status != "committed" {
		t.Fatalf("certificate.revoke: %+v %v", st, err)
	}
	waitConverged(t, f.n, 30*time.Second)
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// htmlPage fetches a portal page (a form when values are given) and checks
// it is HTML with the portal's security headers.
func htmlPage(t *testing.T, method, u string, form url.Values) string {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s %s: %d %s\n%.500s", method, u, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s: CSP %q", u, csp)
	}
	return string(raw)
}
