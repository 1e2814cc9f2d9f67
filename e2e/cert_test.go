package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	certsigner "github.com/creditchain/creditchain/services/signer"
)

// TestCertificates follows an exit to its certificate: issued and anchored
// with certificate.issue, verified offline against the trust bundle, its
// PDF rendered with the credential attached, one certificate per exit
// across signer restarts, and revocation on every replica.
func TestCertificates(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	courtS := newSigner(n, court)
	centerStore := n.Replicator(n.Institutions[center].Member.ID).Store()
	start := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)

	// An organization and a person, each recorded, performed and exited.
	orgRec := certCommit(t, n, courtS, "record.create", recordCreate(orgCode(t, 501), "court-defaulter", "court-defaulter", start, "P2Y"), nil)
	person := &txn.Personal{Name: "欧阳娜", IDNumber: "11010519491231002X", Salt: nonce() + nonce() + nonce()[:16]}
	commitment, err := txn.Commitment(courtS.suite, person)
	if err != nil {
		t.Fatal(err)
	}
	personCreate := recordCreate(orgCode(t, 502), "court-defaulter", "court-defaulter", start, "P2Y")
	personCreate["subject"] = map[string]any{"kind": "person", "commitment": commitment}
	personRec := certCommit(t, n, courtS, "record.create", personCreate, person)
	for _, rec := range []string{orgRec, personRec} {
		certCommit(t, n, courtS, "record.attest", map[string]any{"record_id": rec, "kind": "performed",
			"at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))}, nil)
		certExit(t, n, courtS, centerStore, rec)
	}

	tb, err := n.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgDoc := certAnchored(t, centerStore, orgRec, 60*time.Second)
	personDoc := certAnchored(t, centerStore, personRec, 60*time.Second)

	t.Run("anchored on the ledger", func(t *testing.T) {
		for _, d := range []*certsigner.Document{orgDoc, personDoc} {
			rec, err := centerStore.Record(ctx, d.RecordID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Certificate != d.CertNo || rec.Exit == nil || rec.Exit.TxID != d.ExitTx {
				t.Fatalf("record %s: certificate %q exit %+v, want %s by %s", d.RecordID, rec.Certificate, rec.Exit, d.CertNo, d.ExitTx)
			}
			if h := rec.History[len(rec.History)-1]; h.Type != "certificate.issue" {
				t.Fatalf("record history ends with %s", h.Type)
			}
			c, err := centerStore.Certificate(ctx, d.CertNo)
			if err != nil || c == nil {
				t.Fatalf("ledger certificate %s: %v %v", d.CertNo, c, err)
			}
			sum := sha256.Sum256([]byte(d.JWS))
			if c.Status != "valid" || c.CertHash != hex.EncodeToString(sum[:]) || c.CertHash != d.CertHash || c.ExitTx != d.ExitTx || c.RecordID != d.RecordID {
				t.Fatalf("ledger certificate %+v, document hash %s", c, d.CertHash)
			}
			exitTime, _ := txn.ParseTime(mustBlock(t, centerStore, d.ExitTx).Header.Time)
			if no, _ := cert.CertNo(d.ExitTx, exitTime); no != d.CertNo {
				t.Fatalf("cert no %s, exit gives %s", d.CertNo, no)
			}
		}
	})

	t.Run("verifies offline", func(t *testing.T) {
		// The trust bundle as a client gets it: the file devnet wrote.
		tbFile := writeTrust(t, tb)
		raw, err := os.ReadFile(tbFile)
		if err != nil {
			t.Fatal(err)
		}
		var fromFile block.TrustBundle
		if err := json.Unmarshal(raw, &fromFile); err != nil {
			t.Fatal(err)
		}
		for _, d := range []*certsigner.Document{orgDoc, personDoc} {
			res, err := cert.Verify(d.JWS, &fromFile)
			if err != nil || !res.Valid || res.CertNo != d.CertNo {
				t.Fatalf("certificate %s: %v %+v", d.CertNo, err, res)
			}
		}
		res, _ := cert.Verify(personDoc.JWS, &fromFile)
		cs := res.Credential.CredentialSubject
		if cs.ID != "110105********002X" || cs.Subject.Name != "欧**" || strings.Contains(personDoc.JWS, "欧阳娜") {
			t.Fatalf("person shown as %+v", cs.Subject)
		}
		// A changed byte fails.
		parts := strings.Split(orgDoc.JWS, ".")
		bad := parts[0] + "." + parts[1][:10] + flipB64(parts[1][10]) + parts[1][11:] + "." + parts[2]
		if res, err := cert.Verify(bad, &fromFile); err == nil || res.Valid {
			t.Fatal("a changed certificate verified")
		}
	})

	t.Run("PDF renders and carries the credential", func(t *testing.T) {
		if len(orgDoc.PDF) == 0 {
			t.Fatal("no PDF stored")
		}
		path := filepath.Join(t.TempDir(), "cert.pdf")
		if err := os.WriteFile(path, orgDoc.PDF, 0o644); err != nil {
			t.Fatal(err)
		}
		prefix := filepath.Join(t.TempDir(), "page")
		if out, err := exec.Command("pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", "-singlefile", path, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		data, err := os.ReadFile(prefix + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		dark, b := 0, img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					dark++
				}
			}
		}
		if b.Dx() < 200 || dark < b.Dx()*b.Dy()/100 {
			t.Fatalf("page 1 is %dx%d with %d dark pixels", b.Dx(), b.Dy(), dark)
		}
		jws, err := certsigner.ExtractJWS(orgDoc.PDF)
		if err != nil || jws != orgDoc.JWS {
			t.Fatalf("attachment: %v", err)
		}
		if res, err := cert.Verify(jws, tb); err != nil || !res.Valid {
			t.Fatalf("attached certificate: %v", err)
		}
	})

	t.Run("one certificate per exit across restarts", func(t *testing.T) {
		// Forget how far the signer got and that its certificates are
		// anchored, as after a crash before those writes: the restarted
		// signer must reuse what it stored and submit nothing new.
		n.StopSigner()
		if _, err := centerStore.Pool.Exec(ctx, `UPDATE cert_signer_state SET height = 0`); err != nil {
			t.Fatal(err)
		}
		if _, err := centerStore.Pool.Exec(ctx, `UPDATE cert_documents SET anchored_height = NULL, issue_tx = NULL, submitted_at = NULL`); err != nil {
			t.Fatal(err)
		}
		if err := n.StartSigner(ctx); err != nil {
			t.Fatal(err)
		}
		head, err := centerStore.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for n.Signer().Status().Height < head.Height || certUnanchored(t, centerStore) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("signer did not catch up: %+v", n.Signer().Status())
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, d := range []*certsigner.Document{orgDoc, personDoc} {
			again, err := certsigner.DocumentByRecord(ctx, centerStore.Pool, d.RecordID)
			if err != nil || again == nil || again.JWS != d.JWS || again.CertNo != d.CertNo {
				t.Fatalf("certificate of %s changed after restart", d.RecordID)
			}
		}
		var docs, issues int
		_ = centerStore.Pool.QueryRow(ctx, `SELECT count(*) FROM cert_documents`).Scan(&docs)
		_ = centerStore.Pool.QueryRow(ctx, `SELECT count(*) FROM txs WHERE type = 'certificate.issue'`).Scan(&issues)
		if docs != 2 || issues != 2 {
			t.Fatalf("%d certificate documents and %d certificate.issue committed, want 2 and 2", docs, issues)
		}
		if st := n.Signer().Status(); st.Submitted != 0 || st.Issued != 0 || st.Failed != 0 {
			t.Fatalf("restarted signer issued or submitted again: %+v", st)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		su, _ := suite.ByName(n.Genesis.CryptoSuite)
		in := &certsigner.Intake{URL: n.IntakeURL, Chain: n.Genesis.ChainID, Suite: su, Key: n.Institutions[center].Key}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		id, err := certsigner.Revoke(wctx, in, orgDoc.CertNo, "签发错误")
		if err != nil {
			t.Fatal(err)
		}
		if st, err := in.Wait(wctx, id); err != nil || st.Status != "committed" {
			t.Fatalf("certificate.revoke: %+v %v", st, err)
		}
		waitConverged(t, n, 30*time.Second)
		for _, inst := range n.Institutions {
			c, err := n.Replicator(inst.Member.ID).Store().Certificate(ctx, orgDoc.CertNo)
			if err != nil || c == nil || c.Status != "revoked" {
				t.Fatalf("replica %s: certificate %+v %v", inst.Member.ID, c, err)
			}
		}
		// The other certificate is untouched; revoking twice is refused.
		if c, _ := centerStore.Certificate(ctx, personDoc.CertNo); c == nil || c.Status != "valid" {
			t.Fatalf("person's certificate %+v", c)
		}
		id, err = certsigner.Revoke(wctx, in, orgDoc.CertNo, "again")
		if err != nil {
			t.Fatal(err)
		}
		if st, err := in.Wait(wctx, id); err != nil || st.Status != "rejected" || st.Reason != "invalid_status" {
			t.Fatalf("second revoke: %+v %v", st, err)
		}
		// A bank may not revoke: intake refuses its role.
		bankIn := *in
		bankIn.Key = n.Institutions[bank].Key
		if _, err := certsigner.Revoke(wctx, &bankIn, personDoc.CertNo, "not mine"); err == nil || !strings.Contains(err.Error(), "forbidden_role") {
			t.Fatalf("bank revoke: %v", err)
		}
	})
}

// certCommit submits a transaction and waits until it is committed.
func certCommit(t *testing.T, n *devnet.Network, s *signer, typ string, p any, personal *txn.Personal) string {
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

// certExit exits rec: by the court's record.exit, or by an exit-contract
// that got there first (the court's is then rejected as invalid_status).
func certExit(t *testing.T, n *devnet.Network, s *signer, st *pgstore.Store, rec string) {
	t.Helper()
	env, id := s.sign(t, "record.exit", map[string]any{"record_id": rec, "policy": "court-defaulter", "version": 1, "reason": "obligations performed"})
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("submit exit: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "committed" && r.Body["reason"] != "invalid_status" {
		t.Fatalf("exit: %s", r.Raw)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := st.Record(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		if r != nil && r.Status == ledger.StatusExited {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("record %s not exited in the issuer's replica", rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// certAnchored waits until the certificate of rec is stored and anchored.
func certAnchored(t *testing.T, st *pgstore.Store, rec string, within time.Duration) *certsigner.Document {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, err := certsigner.DocumentByRecord(context.Background(), st.Pool, rec)
		if err != nil {
			t.Fatal(err)
		}
		if d != nil && d.AnchoredHeight > 0 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no anchored certificate for %s after %s (document %+v)", rec, within, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func certUnanchored(t *testing.T, st *pgstore.Store) int {
	t.Helper()
	var c int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cert_documents WHERE anchored_height IS NULL`).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustBlock(t *testing.T, st *pgstore.Store, txID string) *block.Block {
	t.Helper()
	var h int64
	if err := st.Pool.QueryRow(context.Background(), `SELECT height FROM txs WHERE tx_id = $1`, txID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	b, err := st.Block(context.Background(), uint64(h))
	if err != nil || b == nil {
		t.Fatalf("block %d: %v", h, err)
	}
	return b
}

func writeTrust(t *testing.T, tb *block.TrustBundle) string {
	t.Helper()
	data, err := json.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flipB64 is another base64url character than c.
func flipB64(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
