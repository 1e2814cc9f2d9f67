package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/txn"
)

const (
	center = iota
	court
	market
	tax
	ecology
	bank
)

// TestWritePathRules submits valid and invalid transactions of each kind and
// checks every answer of intake and of consensus against the contract.
func TestWritePathRules(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	courtS, marketS, bankS, centerS := newSigner(n, court), newSigner(n, market), newSigner(n, bank), newSigner(n, center)
	start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)

	// A valid record by the court.
	env, recID := courtS.sign(t, "record.create", recordCreate(orgCode(t, 1), "court-defaulter", "court-defaulter", start, "P2Y"))
	if r := submit(t, n, env, nil); r.Status != 202 || r.Body["status"] != "pending" || r.Body["tx_id"] != recID {
		t.Fatalf("valid record.create: %d %s", r.Status, r.Raw)
	}
	// The same transaction again is a duplicate carrying its status.
	if r := submit(t, n, env, nil); r.Status != 409 || r.errorCode() != "duplicate" || r.Body["tx"] == nil {
		t.Fatalf("replayed record.create: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, recID, 20*time.Second); r.Body["status"] != "committed" || r.Body["height"] == nil || r.Body["reason"] != nil {
		t.Fatalf("record.create not committed: %s", r.Raw)
	}

	intakeRefusals := []struct {
		name   string
		env    func() *txn.Envelope
		status int
		code   string
	}{
		{"bank records", func() *txn.Envelope {
			e, _ := bankS.sign(t, "record.create", recordCreate(orgCode(t, 2), "court-defaulter", "court-defaulter", start, "P2Y"))
			return e
		}, 403, "forbidden_role"},
		{"regulator records", func() *txn.Envelope {
			e, _ := centerS.sign(t, "record.create", recordCreate(orgCode(t, 3), "general-dishonesty", "general-dishonesty", start, "P1Y"))
			return e
		}, 403, "forbidden_role"},
		{"recorder outside its categories", func() *txn.Envelope {
			e, _ := marketS.sign(t, "record.create", recordCreate(orgCode(t, 4), "court-defaulter", "court-defaulter", start, "P2Y"))
			return e
		}, 403, "forbidden_category"},
		{"wrong chain", func() *txn.Envelope {
			s := *courtS
			s.chain = "another-chain"
			e, _ := s.sign(t, "record.create", recordCreate(orgCode(t, 5), "court-defaulter", "court-defaulter", start, "P2Y"))
			return e
		}, 400, "wrong_chain"},
		{"stale created_at", func() *txn.Envelope {
			s := *courtS
			s.clock = func() time.Time { return time.Now().Add(-10 * time.Minute) }
			e, _ := s.sign(t, "record.create", recordCreate(orgCode(t, 6), "court-defaulter", "court-defaulter", start, "P2Y"))
			return e
		}, 400, "stale_timestamp"},
		{"forged signature", func() *txn.Envelope {
			e, _ := courtS.sign(t, "record.create", recordCreate(orgCode(t, 7), "court-defaulter", "court-defaulter", start, "P2Y"))
			e.Sig.Value = e.Sig.Value[:len(e.Sig.Value)-4] + "AAAA"
			return e
		}, 401, "bad_signature"},
		{"invalid USCC", func() *txn.Envelope {
			bad := orgCode(t, 8)
			bad = bad[:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[(stringsIndex(bad[17])+1)%31])
			e, _ := courtS.sign(t, "record.create", recordCreate(bad, "court-defaulter", "court-defaulter", start, "P2Y"))
			return e
		}, 400, "invalid_uscc"},
		{"unknown key", func() *txn.Envelope {
			e, _ := courtS.sign(t, "record.create", recordCreate(orgCode(t, 9), "court-defaulter", "court-defaulter", start, "P2Y"))
			e.Sig.KeyID = "0000000000000000"
			return e
		}, 401, "unknown_key"},
	}
	for _, c := range intakeRefusals {
		t.Run(c.name, func(t *testing.T) {
			r := submit(t, n, c.env(), nil)
			if r.Status != c.status || r.errorCode() != c.code {
				t.Fatalf("want %d %s, got %d %s", c.status, c.code, r.Status, r.Raw)
			}
		})
	}

	// Consensus refusals: these need ledger state.
	attest := func(s *signer, rec string) (*txn.Envelope, string) {
		return s.sign(t, "record.attest", map[string]any{"record_id": rec, "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))})
	}
	taxS := newSigner(n, tax)
	notAuth, notAuthID := attest(taxS, recID)
	unknown, unknownID := attest(courtS, "ab"+recID[2:])
	early, earlyID := courtS.sign(t, "record.exit", map[string]any{"record_id": recID, "policy": "court-defaulter", "version": 1, "reason": "term expired"})
	for _, e := range []*txn.Envelope{notAuth, unknown, early} {
		if r := submit(t, n, e, nil); r.Status != 202 {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
	}
	for id, want := range map[string]string{notAuthID: "not_authority", unknownID: "unknown_record", earlyID: "policy_not_satisfied"} {
		r := waitStatus(t, n, id, 20*time.Second)
		if r.Body["status"] != "rejected" || r.Body["reason"] != want || r.Body["height"] != nil {
			t.Errorf("tx %s: want rejected %s, got %s", id, want, r.Raw)
		}
	}
	// The authority's attestation commits, and then the exit holds.
	ok, okID := attest(courtS, recID)
	if r := submit(t, n, ok, nil); r.Status != 202 {
		t.Fatalf("attest: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, okID, 20*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("attest by authority: %s", r.Raw)
	}
	exit, exitID := courtS.sign(t, "record.exit", map[string]any{"record_id": recID, "policy": "court-defaulter", "version": 1, "reason": "obligations performed"})
	submit(t, n, exit, nil)
	if r := waitStatus(t, n, exitID, 20*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("exit after performance: %s", r.Raw)
	}
	again, againID := newSigner(n, tax).sign(t, "record.exit", map[string]any{"record_id": recID, "policy": "court-defaulter", "version": 1, "reason": "again"})
	submit(t, n, again, nil)
	if r := waitStatus(t, n, againID, 20*time.Second); r.Body["status"] != "rejected" || r.Body["reason"] != "invalid_status" {
		t.Fatalf("double exit: %s", r.Raw)
	}
	waitConverged(t, n, 30*time.Second)
	// Every replica holds the record as exited.
	for _, in := range n.Institutions {
		rec, err := n.Replicator(in.Member.ID).Store().Record(context.Background(), recID)
		if err != nil || rec == nil || rec.Status != "exited" {
			t.Fatalf("replica %s: record %v err %v", in.Member.ID, rec, err)
		}
	}
}

func stringsIndex(c byte) int {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i := 0; i < len(alphabet); i++ {
		if alphabet[i] == c {
			return i
		}
	}
	return 0
}

// waitConverged waits until every replica and every consensus node has the
// same head as the leader's stream, and checks they agree.
func waitConverged(t testing.TB, n *devnet.Network, within time.Duration) (height uint64, hash string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	var target uint64
	for _, in := range n.Institutions {
		if c := n.Consensus(in.Member.ID); c != nil {
			if h, err := c.Store().Head(ctx); err == nil {
				target = max(target, h.Height)
			}
		}
	}
	for {
		heads := map[string]string{}
		var maxH uint64
		same := true
		var first string
		for _, in := range n.Institutions {
			r := n.Replicator(in.Member.ID)
			if r == nil {
				continue
			}
			h, err := r.Store().Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			heads[in.Member.ID] = h.Hash
			maxH = max(maxH, h.Height)
			if first == "" {
				first = h.Hash
			} else if h.Hash != first {
				same = false
			}
		}
		if same && maxH >= target {
			// Compare the replicas block by block at the common head.
			return maxH, first
		}
		if time.Now().After(deadline) {
			j, _ := json.Marshal(heads)
			t.Fatalf("replicas did not converge within %s: %s", within, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
