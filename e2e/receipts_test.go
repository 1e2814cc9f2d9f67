package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/jackc/pgx/v5"
)

// receiptsRun is a network whose leader's receipts can be made to get lost
// (consensus.Config.AdversaryDropReceipts), with a first transaction
// committed and its leader known.
type receiptsRun struct {
	n       *devnet.Network
	ctx     context.Context
	court   *signer
	start   time.Time
	leader  string
	lose    atomic.Value // the institution whose receipts get lost, or ""
	replica *pgstore.Store
}

func startReceiptsRun(t *testing.T) *receiptsRun {
	r := &receiptsRun{}
	r.lose.Store("")
	r.n = startNetwork(t, devnet.Options{AdversaryDropReceipts: func(inst string, _ uint64) bool {
		return inst == r.lose.Load().(string)
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	r.ctx, r.court = ctx, newSigner(r.n, court)
	r.start = time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	r.submitOne(t, 300)
	var err error
	if r.leader, _, err = r.n.Leader(ctx); err != nil {
		t.Fatal(err)
	}
	r.replica = r.n.Replicator(r.n.Institutions[center].Member.ID).Store()
	return r
}

// submitOne submits a record about the i-th test organization and waits
// until the replica holds it; it returns its id and height.
func (r *receiptsRun) submitOne(t *testing.T, i int) (string, int64) {
	t.Helper()
	env, id := r.court.sign(t, "record.create", recordCreate(orgCode(t, i), "court-defaulter", "court-defaulter", r.start, "P2Y"))
	if resp := submit(t, r.n, env, nil); resp.Status != 202 {
		t.Fatalf("submit: %d %s", resp.Status, resp.Raw)
	}
	if r.replica == nil {
		waitStatus(t, r.n, id, 30*time.Second)
		return id, 0
	}
	return id, waitCommittedAt(r.ctx, t, r.replica.Pool, id)
}

// loseBlocks makes the leader's receipts get lost while it commits three
// blocks of one transaction each, checks intake shows them pending and
// returns their ids and heights.
func (r *receiptsRun) loseBlocks(t *testing.T) map[string]int64 {
	t.Helper()
	r.lose.Store(r.leader)
	out := map[string]int64{}
	heights := map[int64]bool{}
	for i := range 3 {
		id, h := r.submitOne(t, 301+i)
		if heights[h] {
			t.Fatalf("two transactions in block %d: the test wants one block each", h)
		}
		heights[h], out[id] = true, h
	}
	r.sameLeader(t)
	for id := range out {
		if resp := get(t, r.n.IntakeURL+"/v1/transactions/"+id); resp.Status != 200 || resp.Body["status"] != "pending" {
			t.Fatalf("%s at intake while receipts get lost: %d %s, want pending", id, resp.Status, resp.Raw)
		}
	}
	return out
}

func (r *receiptsRun) sameLeader(t *testing.T) {
	t.Helper()
	if now, _, err := r.n.Leader(r.ctx); err != nil || now != r.leader {
		t.Fatalf("leader changed during the test (%s, then %s, %v): nothing is shown", r.leader, now, err)
	}
}

// allCommittedAtIntake waits until intake shows every transaction
// committed at its height.
func (r *receiptsRun) allCommittedAtIntake(t *testing.T, txs map[string]int64, within time.Duration) {
	t.Helper()
	for id, h := range txs {
		resp := waitStatus(t, r.n, id, within)
		if resp.Body["status"] != "committed" || resp.Body["height"] != float64(h) {
			t.Fatalf("%s at intake: %s, want committed at height %d", id, resp.Raw, h)
		}
	}
}

// TestLostReceiptsRewrittenByNextLeader: a leader that appends blocks but
// whose receipts never arrive (as one that dies between the two) leaves
// their transactions "pending" at intake although every replica holds
// them; the next leader rewrites the receipts of every block since the
// last one whose receipts were written, not only the head block's.
func TestLostReceiptsRewrittenByNextLeader(t *testing.T) {
	r := startReceiptsRun(t)
	txs := r.loseBlocks(t)
	r.n.StopConsensus(r.leader)
	r.allCommittedAtIntake(t, txs, 60*time.Second)
	if now, _, err := r.n.Leader(r.ctx); err != nil || now == r.leader {
		t.Fatalf("leader after stopping %s: %s %v", r.leader, now, err)
	}
}

// TestLostReceiptsRepairedByTheSameLeader: receipts lost while the leader
// goes on (NATS lost the acknowledgements) are rewritten by that leader
// once it can write again, without a leader change.
func TestLostReceiptsRepairedByTheSameLeader(t *testing.T) {
	r := startReceiptsRun(t)
	txs := r.loseBlocks(t)
	r.lose.Store("")
	r.allCommittedAtIntake(t, txs, 30*time.Second)
	r.sameLeader(t)
}

// waitCommittedAt waits until the replica behind pool holds transaction id
// and returns its height.
func waitCommittedAt(ctx context.Context, t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id string) int64 {
	t.Helper()
	for {
		var h int64
		err := pool.QueryRow(ctx, `SELECT height FROM txs WHERE tx_id = $1`, id).Scan(&h)
		if err == nil {
			return h
		}
		if !errors.Is(err, pgx.ErrNoRows) || ctx.Err() != nil {
			t.Fatal(fmt.Errorf("transaction %s at the replica: %w", id, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
