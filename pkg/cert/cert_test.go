package cert_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/cert/certtest"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

func TestValidCertificateVerifies(t *testing.T) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		t.Run(name, func(t *testing.T) {
			f := certtest.New(t, name)
			c := f.Issue(t)
			res, err := cert.Verify(c.JWS, f.Trust)
			if err != nil {
				t.Fatalf("valid certificate: %v (checks %+v)", err, res.Checks)
			}
			if !res.Valid || res.Reason != "" || res.CertNo != c.CertNo {
				t.Fatalf("result %+v", res)
			}
			var names []string
			for _, ch := range res.Checks {
				if !ch.OK {
					t.Errorf("check %s not ok: %s", ch.Name, ch.Detail)
				}
				names = append(names, ch.Name)
			}
			want := []string{cert.CheckFormat, cert.CheckIssuerKey, cert.CheckSignature, cert.CheckCredential, cert.CheckExitTx,
				cert.CheckInclusion, cert.CheckBlockHash, cert.CheckEpoch, cert.CheckCosignatures, cert.CheckQuorum}
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Fatalf("checks %v, want %v", names, want)
			}
			if want := hex.EncodeToString(f.S.Hash([]byte(c.JWS))); c.Hash != want {
				t.Fatalf("cert hash %s, want %s", c.Hash, want)
			}
			cs := res.Credential.CredentialSubject
			if cs.ID != "91350200776049653A" || cs.Subject.Name != "厦门某某有限公司" || cs.Record.DocumentNo != "(2026)闽02执123号" ||
				cs.Exit.Reason != "obligations performed" || cs.Exit.Time != f.Exit.Block.Header.Time || cs.Record.Term != "P2Y" {
				t.Fatalf("credential subject %+v", cs)
			}
		})
	}
}

// TestJWSShape pins the protected header byte for byte and the payload to
// the credential's JCS form (DESIGN 9.6).
func TestJWSShape(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	c := f.Issue(t)
	parts := strings.Split(c.JWS, ".")
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alg":"Ed25519","typ":"vc+jwt","kid":"` + f.Trust.Issuer.KeyID + `"}`
	if string(hdr) != want {
		t.Fatalf("protected header %s, want %s", hdr, want)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var doc map[string]any
	if err := json.Unmarshal(payload, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["id"] != "urn:creditchain:cert:"+c.CertNo || doc["issuer"] != "urn:creditchain:member:"+certtest.CenterID ||
		doc["validFrom"] != f.Exit.Block.Header.Time {
		t.Fatalf("credential %s", payload)
	}
	if ctx, _ := doc["@context"].([]any); len(ctx) != 1 || ctx[0] != cert.ContextV2 {
		t.Fatalf("@context %v", doc["@context"])
	}
	ledger := doc["credentialSubject"].(map[string]any)["ledger"].(map[string]any)
	for _, k := range []string{"tx", "inclusion", "block"} {
		if ledger[k] == nil {
			t.Fatalf("ledger has no %s: %v", k, ledger)
		}
	}
	if ledger["inclusion"].(map[string]any)["tx_id"] != f.ExitID {
		t.Fatalf("inclusion %v", ledger["inclusion"])
	}
	// Signing twice gives the same JWS: Ed25519 is deterministic and the
	// payload canonical, so a signer that restarts re-derives the same bytes.
	if again := f.Issue(t); again.JWS != c.JWS {
		t.Fatal("re-signing the same exit gave another JWS")
	}
	// Under sm2 the header names SM2.
	g := certtest.New(t, suite.SM2)
	hs, _ := base64.RawURLEncoding.DecodeString(strings.Split(g.Issue(t).JWS, ".")[0])
	if !strings.HasPrefix(string(hs), `{"alg":"SM2","typ":"vc+jwt","kid":"`) {
		t.Fatalf("sm2 header %s", hs)
	}
}

// TestPlainEd25519 checks what a browser does with WebCrypto: plain Ed25519
// over the ASCII "<header>.<payload>" with the trust bundle's raw key.
func TestPlainEd25519(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	c := f.Issue(t)
	i := strings.LastIndexByte(c.JWS, '.')
	sig, err := base64.RawURLEncoding.DecodeString(c.JWS[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(ed25519.PublicKey(f.Trust.Issuer.Public), []byte(c.JWS[:i]), sig) {
		t.Fatal("the JWS is not plain Ed25519 over the signing input")
	}
}

func TestCertNo(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	cases := []struct {
		at   string
		want string
	}{
		{"2026-11-25T08:00:00Z", "CC-2026-0123456789ABCDEF"},
		// 17:00 UTC on 31 December is already 1 January in China.
		{"2026-12-31T16:00:00Z", "CC-2027-0123456789ABCDEF"},
		{"2026-12-31T15:59:59Z", "CC-2026-0123456789ABCDEF"},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		got, err := cert.CertNo(id, at)
		if err != nil || got != c.want {
			t.Errorf("CertNo at %s = %q, %v; want %q", c.at, got, err, c.want)
		}
		if !cert.ValidCertNo(got) {
			t.Errorf("%q is not a valid cert no", got)
		}
	}
	for _, bad := range []string{"0123", "0123456789ABCDEF0123", "zz23456789abcdef0123"} {
		if _, err := cert.CertNo(bad, time.Now()); err == nil {
			t.Errorf("cert.CertNo(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"CC-2026-0123456789abcdef", "CC-26-0123456789ABCDEF", "cc-2026-0123456789ABCDEF", ""} {
		if cert.ValidCertNo(bad) {
			t.Errorf("cert.ValidCertNo(%q) = true", bad)
		}
	}
}

func TestBuildPerson(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	p := &txn.Personal{Name: "欧阳娜", IDNumber: "11010519491231002X", Salt: strings.Repeat("ab", 32)}
	commit, err := txn.Commitment(f.S, p)
	if err != nil {
		t.Fatal(err)
	}
	f.Exit.Record.Subject = txn.Subject{Kind: txn.SubjectPerson, Commitment: commit}
	f.Exit.Personal = p
	cred, err := cert.Build(f.S, f.Exit)
	if err != nil {
		t.Fatal(err)
	}
	cs := cred.CredentialSubject
	if cs.ID != "110105********002X" || cs.Subject.Code != cs.ID || cs.Subject.Name != "欧**" || cs.Subject.Kind != "person" {
		t.Fatalf("person shown as %+v (id %s)", cs.Subject, cs.ID)
	}
	body, _ := json.Marshal(cred)
	if strings.Contains(string(body), "11010519491231002X") || strings.Contains(string(body), "欧阳娜") {
		t.Fatalf("credential leaks personal data: %s", body)
	}
	// Another person's sidecar does not match the commitment.
	f.Exit.Personal = &txn.Personal{Name: "张三", IDNumber: "11010519491231002X", Salt: p.Salt}
	if _, err := cert.Build(f.S, f.Exit); err == nil || !strings.Contains(err.Error(), "commitment") {
		t.Fatalf("mismatched sidecar: %v", err)
	}
	f.Exit.Personal = nil
	if _, err := cert.Build(f.S, f.Exit); err == nil {
		t.Fatal("person without sidecar built")
	}
}

func TestBuildRefusesMismatchedPieces(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	other := *f.Exit.Record
	ex := *other.Exit
	ex.TxID = strings.Repeat("0", 64)
	other.Exit = &ex
	in := *f.Exit
	in.Record = &other
	if _, err := cert.Build(f.S, &in); err == nil || !strings.Contains(err.Error(), "exited by") {
		t.Fatalf("record exited by another tx: %v", err)
	}
	in = *f.Exit
	in.Inclusion.TreeSize--
	if _, err := cert.Build(f.S, &in); err == nil {
		t.Fatal("proof at another size accepted")
	}
}

func TestReadJWS(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	c := f.Issue(t)
	api, _ := json.Marshal(map[string]any{"cert_no": c.CertNo, "status": "valid", "jws": c.JWS})
	env, _ := json.Marshal(cert.Enveloped(c.JWS))
	for name, doc := range map[string][]byte{"text": []byte("\n" + c.JWS + "\n"), "api": api, "enveloped": env} {
		got, err := cert.ReadJWS(doc)
		if err != nil || got != c.JWS {
			t.Errorf("%s: got %.20q, %v", name, got, err)
		}
	}
	bare, _ := json.Marshal(c.Credential)
	if _, err := cert.ReadJWS(bare); err == nil || !strings.Contains(err.Error(), "no signature") {
		t.Errorf("bare credential: %v", err)
	}
	if _, err := cert.ReadJWS([]byte("  ")); err == nil {
		t.Error("empty document accepted")
	}
}

// failsWith asserts that jws is invalid at check, with reason containing want.
func failsWith(t *testing.T, f *certtest.Fixture, jws, check, want string) {
	t.Helper()
	res, err := cert.Verify(jws, f.Trust)
	var ce *cert.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want failure at %s, got %v", check, err)
	}
	if ce.Check != check || !strings.Contains(ce.Reason, want) || res.Valid {
		t.Fatalf("want %s containing %q, got %s: %s", check, want, ce.Check, ce.Reason)
	}
	last := res.Checks[len(res.Checks)-1]
	if last.Name != check || last.OK || res.Reason != check+": "+ce.Reason {
		t.Fatalf("result does not end in the failure: %+v", res)
	}
}
