package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/txn"
)

// expectation is what one submitted transaction must end as.
type expectation struct {
	id     string
	env    *txn.Envelope
	status string // committed | rejected
	reason string
}

// submitAll posts every transaction from a few concurrent clients and checks
// intake accepted each.
func submitAll(t *testing.T, n *devnet.Network, txs []expectation) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan expectation)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				if r := submit(t, n, e.env, nil); r.Status != 202 {
					t.Errorf("submit %s: %d %s", e.id, r.Status, r.Raw)
				}
			}
		}()
	}
	for _, e := range txs {
		work <- e
	}
	close(work)
	wg.Wait()
}

// TestThousandMixedTransactions submits 1,000 signed transactions of mixed
// valid and invalid kinds: every valid one is committed exactly once, every
// invalid one rejected with the right reason, and none is lost.
func TestThousandMixedTransactions(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	start := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	courtS, marketS, taxS, bankS := newSigner(n, court), newSigner(n, market), newSigner(n, tax), newSigner(n, bank)

	// Phase 1: 400 records (court and market), 100 reports, 100 attestations
	// of records that do not exist.
	var phase1 []expectation
	var courtRecs, marketRecs []string
	for i := 0; i < 400; i++ {
		if i%2 == 0 {
			env, id := courtS.sign(t, "record.create", recordCreate(orgCode(t, 30000+i), "court-defaulter", "court-defaulter", start, "P2Y"))
			phase1 = append(phase1, expectation{id: id, env: env, status: "committed"})
			courtRecs = append(courtRecs, id)
		} else {
			env, id := marketS.sign(t, "record.create", recordCreate(orgCode(t, 30000+i), "general-dishonesty", "general-dishonesty", start, "P1Y"))
			phase1 = append(phase1, expectation{id: id, env: env, status: "committed"})
			marketRecs = append(marketRecs, id)
		}
	}
	for i := 0; i < 100; i++ {
		env, id := bankS.sign(t, "report.submit", map[string]any{
			"subject":  map[string]any{"kind": "organization", "uscc": orgCode(t, 31000+i), "name": "某某贸易有限公司"},
			"category": "general-dishonesty", "facts": "逾期未履行合同义务"})
		phase1 = append(phase1, expectation{id: id, env: env, status: "committed"})
	}
	for i := 0; i < 100; i++ {
		env, id := courtS.sign(t, "record.attest", map[string]any{"record_id": orgHash(i), "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))})
		phase1 = append(phase1, expectation{id: id, env: env, status: "rejected", reason: "unknown_record"})
	}
	submitAll(t, n, phase1)
	checkOutcomes(t, n, phase1)

	// Phase 2: 200 attestations by the authority, 100 by another recorder,
	// 100 exits of general-dishonesty records a month old (too early).
	var phase2 []expectation
	for i := 0; i < 200; i++ {
		env, id := courtS.sign(t, "record.attest", map[string]any{"record_id": courtRecs[i], "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))})
		phase2 = append(phase2, expectation{id: id, env: env, status: "committed"})
	}
	for i := 0; i < 100; i++ {
		env, id := taxS.sign(t, "record.attest", map[string]any{"record_id": marketRecs[i], "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))})
		phase2 = append(phase2, expectation{id: id, env: env, status: "rejected", reason: "not_authority"})
	}
	for i := 100; i < 200; i++ {
		env, id := marketS.sign(t, "record.exit", map[string]any{"record_id": marketRecs[i], "policy": "general-dishonesty", "version": 1, "reason": "publication period ended"})
		phase2 = append(phase2, expectation{id: id, env: env, status: "rejected", reason: "policy_not_satisfied"})
	}
	submitAll(t, n, phase2)
	checkOutcomes(t, n, phase2)

	// Every replica holds each committed transaction exactly once.
	var committed []string
	for _, e := range append(phase1, phase2...) {
		if e.status == "committed" {
			committed = append(committed, e.id)
		}
	}
	checkNothingLost(t, n, committed)
	ctx := context.Background()
	for _, in := range n.Institutions {
		var rejectedInChain int
		var ids []string
		for _, e := range append(phase1, phase2...) {
			if e.status == "rejected" {
				ids = append(ids, e.id)
			}
		}
		st := n.Replicator(in.Member.ID).Store()
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM txs WHERE tx_id = ANY($1)`, ids).Scan(&rejectedInChain); err != nil {
			t.Fatal(err)
		}
		if rejectedInChain != 0 {
			t.Errorf("replica %s holds %d rejected transactions", in.Member.ID, rejectedInChain)
		}
	}
}

func orgHash(i int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 64)
	for j := range b {
		b[j] = hexd[(i*7+j*13)%16]
	}
	return string(b)
}

func checkOutcomes(t *testing.T, n *devnet.Network, txs []expectation) {
	t.Helper()
	for _, e := range txs {
		r := waitStatus(t, n, e.id, 60*time.Second)
		if r.Body["status"] != e.status || (e.reason != "" && r.Body["reason"] != e.reason) {
			t.Errorf("tx %s (%s): want %s %s, got %s", e.id, e.env.Type, e.status, e.reason, r.Raw)
		}
	}
}
