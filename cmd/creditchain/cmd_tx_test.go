package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

const testPayload = `{
  "subject": {"kind": "organization", "uscc": "91350200776049653A", "name": "厦门某某有限公司"},
  "category": "court-defaulter",
  "measures": ["high_consumption_ban", "travel_ban"],
  "basis": {"document_no": "(2026)闽02执123号", "decided_at": "2026-01-05T00:00:00Z", "law": "民事诉讼法"},
  "start": "2026-01-05T00:00:00Z", "term": "P2Y", "policy": "court-defaulter"
}`

type txFixture struct {
	dir, key string
	kf       *suite.KeyFile
	s        suite.Suite
}

func newTxFixture(t *testing.T, alg string) *txFixture {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "key.json")
	if code, _, errs := runCmd(t, "keygen", "--institution", testUSCC, "--alg", alg, "--out", key); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	kf, err := suite.LoadKeyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := suite.ByName(alg)
	return &txFixture{dir: dir, key: key, kf: kf, s: s}
}

func (f *txFixture) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkSigned decodes the envelope, verifies it and returns it; txIDLine is
// what the command wrote to stderr.
func (f *txFixture) checkSigned(t *testing.T, envelope []byte, txIDLine string) *txn.Envelope {
	t.Helper()
	e, err := txn.DecodeEnvelope(envelope)
	if err != nil {
		t.Fatalf("output does not decode: %v\n%s", err, envelope)
	}
	if err := e.VerifySignature(f.s, f.kf.Public); err != nil {
		t.Fatal(err)
	}
	id, _ := e.ID(f.s)
	if txIDLine != id+"\n" {
		t.Fatalf("stderr %q, want the tx id %s alone on a line", txIDLine, id)
	}
	if e.Submitter != testUSCC || e.Sig.KeyID != f.kf.KeyID || len(e.Nonce) != 24 {
		t.Fatalf("envelope %+v", e)
	}
	created, err := txn.ParseTime(e.CreatedAt)
	if err != nil || time.Since(created) > time.Minute || time.Until(created) > time.Second {
		t.Fatalf("created_at %s %v", e.CreatedAt, err)
	}
	return e
}

func TestTxSign(t *testing.T) {
	for _, alg := range []string{suite.Ed25519, suite.SM2} {
		t.Run(alg, func(t *testing.T) {
			f := newTxFixture(t, alg)
			payload := f.file(t, "payload.json", testPayload)
			code, out, errs := runCmd(t, "tx", "sign", "--key", f.key, "--chain", "test-chain",
				"--type", "record.create", "--payload", payload)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			e := f.checkSigned(t, []byte(out), errs)
			if e.Chain != "test-chain" || e.Type != txn.TypeRecordCreate {
				t.Fatalf("envelope %+v", e)
			}
			// The output is the canonical form itself.
			if c, _ := e.Canonical(); string(c)+"\n" != out {
				t.Fatalf("output is not canonical:\n%s", out)
			}

			// --network and --out.
			network := f.file(t, "network.json", `{"chain_id":"net-chain","crypto_suite":"`+alg+`","intake_url":"http://127.0.0.1:1"}`)
			outFile := filepath.Join(f.dir, "tx.json")
			code, out, errs = runCmd(t, "tx", "sign", "--key", f.key, "--network", network,
				"--type", "record.create", "--payload", payload, "--out", outFile)
			if code != 0 || out != "" {
				t.Fatalf("exit %d, stdout %q: %s", code, out, errs)
			}
			data, err := os.ReadFile(outFile)
			if err != nil {
				t.Fatal(err)
			}
			if e := f.checkSigned(t, data, errs); e.Chain != "net-chain" {
				t.Fatalf("chain %q", e.Chain)
			}
		})
	}
}

func TestTxSignNoncesDiffer(t *testing.T) {
	f := newTxFixture(t, suite.Ed25519)
	payload := f.file(t, "p.json", `{"record_id":"`+strings.Repeat("ab", 32)+`"}`)
	seen := map[string]bool{}
	for range 5 {
		code, _, errs := runCmd(t, "tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.purge", "--payload", payload)
		if code != 0 || seen[errs] {
			t.Fatalf("exit %d, repeated or failed id %q", code, errs)
		}
		seen[errs] = true
	}
}

func TestTxSignPersonal(t *testing.T) {
	f := newTxFixture(t, suite.Ed25519)
	personal := &txn.Personal{Name: "张三", IDNumber: "11010519491231002X", Salt: strings.Repeat("0f", 32)}
	commitment, err := txn.Commitment(f.s, personal)
	if err != nil {
		t.Fatal(err)
	}
	pj, _ := json.Marshal(personal)
	personalFile := f.file(t, "personal.json", string(pj))
	payload := f.file(t, "payload.json", strings.Replace(testPayload,
		`{"kind": "organization", "uscc": "91350200776049653A", "name": "厦门某某有限公司"}`,
		`{"kind": "person", "commitment": "`+commitment+`"}`, 1))

	code, out, errs := runCmd(t, "tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.create",
		"--payload", payload, "--personal", personalFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sub, aerr := txn.DecodeSubmission([]byte(out))
	if aerr != nil {
		t.Fatalf("output is not a submission body: %v\n%s", aerr, out)
	}
	if aerr := txn.Validate(sub.Tx, sub.Payload, sub.Personal, time.Now()); aerr != nil {
		t.Fatal(aerr)
	}
	env, _ := sub.Tx.Canonical()
	f.checkSigned(t, env, errs)

	// A sidecar that does not open the commitment is refused before signing.
	wrong := f.file(t, "wrong.json", `{"name":"李四","id_number":"11010519491231002X","salt":"`+strings.Repeat("0f", 32)+`"}`)
	code, out, errs = runCmd(t, "tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.create",
		"--payload", payload, "--personal", wrong)
	if code != 1 || out != "" || !strings.Contains(errs, "commitment_mismatch") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// --submission without a sidecar wraps the envelope alone.
	orgPayload := f.file(t, "org.json", testPayload)
	code, out, errs = runCmd(t, "tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.create",
		"--payload", orgPayload, "--submission")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if sub, aerr := txn.DecodeSubmission([]byte(out)); aerr != nil || sub.Personal != nil {
		t.Fatalf("%v %+v", aerr, sub)
	}
}

func TestTxSignErrors(t *testing.T) {
	f := newTxFixture(t, suite.Ed25519)
	good := f.file(t, "good.json", testPayload)
	badUSCC := f.file(t, "bad-uscc.json", strings.Replace(testPayload, `"uscc": "91350200776049653A"`, `"uscc": "91350200776049653B"`, 1))
	unknown := f.file(t, "unknown.json", strings.Replace(testPayload, `"policy"`, `"extra": 1, "policy"`, 1))
	offsetTime := f.file(t, "offset.json", strings.Replace(testPayload, `"start": "2026-01-05T00:00:00Z"`, `"start": "2026-01-05T08:00:00+08:00"`, 1))
	notJSON := f.file(t, "not.json", `{"subject":`)
	sm2Net := f.file(t, "sm2-network.json", `{"chain_id":"c","crypto_suite":"sm2"}`)
	noChain := f.file(t, "nochain.json", `{"crypto_suite":"ed25519"}`)
	base := []string{"tx", "sign", "--key", f.key, "--type", "record.create"}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tx"}, 2, "usage"},
		{[]string{"tx", "frobnicate"}, 2, "unknown subcommand"},
		{[]string{"tx", "sign"}, 2, "required"},
		{append(base, "--payload", good), 2, "exactly one of --chain and --network"},
		{append(base, "--payload", good, "--chain", "c", "--network", sm2Net), 2, "exactly one"},
		{[]string{"tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.delete", "--payload", good}, 2, "unknown --type"},
		{append(base, "--chain", "c", "--payload", good, "stray"), 2, "unexpected argument"},
		{append(base, "--chain", "c", "--payload", badUSCC), 1, "invalid_uscc"},
		{append(base, "--chain", "c", "--payload", unknown), 1, `malformed: payload: unknown member "extra"`},
		{append(base, "--chain", "c", "--payload", offsetTime), 1, "malformed: payload.start"},
		{append(base, "--chain", "c", "--payload", notJSON), 1, "invalid JSON"},
		{append(base, "--chain", "c", "--payload", filepath.Join(f.dir, "missing.json")), 1, "--payload"},
		{[]string{"tx", "sign", "--key", f.key, "--chain", "c", "--type", "record.exit", "--payload", good}, 1, "malformed"},
		{append(base, "--network", sm2Net, "--payload", good), 1, "crypto suite is sm2"},
		{append(base, "--network", noChain, "--payload", good), 1, "no chain_id"},
		{[]string{"tx", "sign", "--key", good, "--chain", "c", "--type", "record.create", "--payload", good}, 1, "key file"},
	} {
		code, out, errs := runCmd(t, c.args...)
		if code != c.code || out != "" || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d mentioning %q", c.args[2:], code, out, errs, c.code, c.msg)
		}
	}
}
