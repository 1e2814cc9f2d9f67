package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/txn"
)

// TestPurgeDeletesPersonSidecars: a person's plaintext (name, ID number)
// reaches every replica beside the commitment, and record.purge after exit
// and retention deletes it from every replica while the chain stays
// verifiable (PIPL art. 47).
func TestPurgeDeletesPersonSidecars(t *testing.T) {
	clk := &settableClock{}
	e := &exitNet{t: t, n: startNetwork(t, devnet.Options{Clock: clk.Now}), clk: clk}
	n, ctx := e.n, context.Background()
	marketS := e.signer(market)
	personal := &txn.Personal{Name: "欧阳娜", IDNumber: "11010519491231002X", Salt: newSalt(t)}
	commitment, err := txn.Commitment(marketS.suite, personal)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	payload := personPayload(commitment, "minor-dishonesty", start, "P3M", "厦市监处〔2026〕99号")
	env, rec := marketS.sign(t, "record.create", payload)
	if r := submit(t, n, env, personal); r.Status != 202 {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, rec, 30*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("record.create: %s", r.Raw)
	}
	waitConverged(t, n, 30*time.Second)
	sidecars := func() (held int) {
		for _, in := range n.Institutions {
			var c int
			if err := n.Replicator(in.Member.ID).Store().Pool.QueryRow(ctx,
				`SELECT count(*) FROM personal WHERE commitment = $1 AND id_number = $2`, commitment, personal.IDNumber).Scan(&c); err != nil {
				t.Fatal(err)
			}
			held += c
		}
		return held
	}
	if got := sidecars(); got != len(n.Institutions) {
		t.Fatalf("%d of %d replicas hold the sidecar", got, len(n.Institutions))
	}
	// Liability discharged: the record exits, then is purged after P6M.
	e.commit(marketS, "record.attest", map[string]any{"record_id": rec, "kind": "performed", "at": txn.FormatTime(clk.Now().UTC().Add(-time.Minute))})
	exited := e.waitRecord(rec, "exited", 60*time.Second)
	e.rejected(marketS, "record.purge", map[string]any{"record_id": rec}, "policy_not_satisfied")
	clk.jumpTo(exited.Exit.Time.AddDate(0, 6, 1))
	e.waitRecord(rec, "purged", 60*time.Second)
	waitConverged(t, n, 30*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for sidecars() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d replicas still hold the purged sidecar", sidecars())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The commitment, and so the chain, stay.
	r := e.record(rec)
	if r.Subject.Commitment != commitment {
		t.Fatalf("purged record lost its commitment: %+v", r.Subject)
	}
}
