package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
)

// load submits record.create transactions at a steady rate from the court
// and remembers every transaction intake accepted.
type load struct {
	mu       sync.Mutex
	accepted []string
	stop     chan struct{}
	done     chan struct{}
}

func startLoad(t *testing.T, n *devnet.Network, perSecond int, first int) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	s := newSigner(n, court)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	go func() {
		defer close(l.done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for i := first; ; i++ {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			env, id := s.sign(t, "record.create", recordCreate(orgCode(t, i), "court-defaulter", "court-defaulter", start, "P2Y"))
			r := submit(t, n, env, nil)
			if r.Status == 202 {
				l.mu.Lock()
				l.accepted = append(l.accepted, id)
				l.mu.Unlock()
			} else if r.Status != 503 {
				t.Errorf("load submit: %d %s", r.Status, r.Raw)
			}
		}
	}()
	return l
}

func (l *load) finish() []string {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.accepted...)
}

// checkNothingLost waits until every accepted transaction has a final
// status, then reads every replica: each committed transaction is there
// exactly once, the chain has no gap, and the replicas agree.
func checkNothingLost(t *testing.T, n *devnet.Network, accepted []string) {
	t.Helper()
	committed := 0
	for _, id := range accepted {
		r := waitStatus(t, n, id, 60*time.Second)
		if r.Body["status"] == "committed" {
			committed++
		} else {
			t.Errorf("accepted %s ended %s", id, r.Raw)
		}
	}
	height, hash := waitConverged(t, n, 60*time.Second)
	ctx := context.Background()
	for _, in := range n.Institutions {
		st := n.Replicator(in.Member.ID).Store()
		var found, dup, blocks int
		if err := st.Pool.QueryRow(ctx, `SELECT count(DISTINCT tx_id), count(*) - count(DISTINCT tx_id) FROM txs WHERE tx_id = ANY($1)`, accepted).Scan(&found, &dup); err != nil {
			t.Fatal(err)
		}
		// The chain moves on (idle blocks) while we look: check up to height.
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM blocks WHERE height <= $1`, int64(height)).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		if found != committed || dup != 0 {
			t.Errorf("replica %s holds %d of %d committed transactions (%d duplicated)", in.Member.ID, found, committed, dup)
		}
		if uint64(blocks) != height+1 {
			t.Errorf("replica %s has %d blocks for head %d: a gap", in.Member.ID, blocks, height)
		}
		if h, err := st.BlockHash(ctx, height); err != nil || h != hash {
			t.Errorf("replica %s holds %s at height %d (%v), others %s", in.Member.ID, h, height, err, hash)
		}
	}
	t.Logf("%d accepted, %d committed, head %d", len(accepted), committed, height)
}

// TestLeaderFailover kills the leader repeatedly under load: a new leader
// takes over, the chain has no gap and no fork, and nothing accepted is lost.
func TestLeaderFailover(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	l := startLoad(t, n, 40, 0)
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		time.Sleep(1500 * time.Millisecond)
		leader, view, err := n.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n.StopConsensus(leader)
		deadline := time.Now().Add(20 * time.Second)
		for {
			next, nextView, err := n.Leader(ctx)
			if err == nil && next != leader && nextView > view {
				t.Logf("round %d: leader %s (view %d) killed, %s leads in view %d", round, leader, view, next, nextView)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no new leader after killing %s", leader)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := n.StartConsensus(ctx, leader); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	checkNothingLost(t, n, l.finish())
}

// TestReplicatorRestart stops and restarts a replicator repeatedly under
// load: it resumes from its own height with no gap and no duplicate.
func TestReplicatorRestart(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	l := startLoad(t, n, 40, 5000)
	ctx := context.Background()
	victim := n.Institutions[bank].Member.ID
	for round := 0; round < 4; round++ {
		time.Sleep(700 * time.Millisecond)
		n.StopReplicator(victim)
		time.Sleep(300 * time.Millisecond)
		if err := n.StartReplicator(ctx, victim); err != nil {
			t.Fatal(err)
		}
	}
	checkNothingLost(t, n, l.finish())
}

// TestRecorderDownKeepsChainLive stops one recorder of four (quorum 3): the
// chain goes on; when it returns it catches up.
func TestRecorderDownKeepsChainLive(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	leader, _, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var down string
	for _, id := range []int{court, market, tax, ecology} {
		if n.Institutions[id].Member.ID != leader {
			down = n.Institutions[id].Member.ID
			break
		}
	}
	n.StopConsensus(down)
	l := startLoad(t, n, 30, 9000)
	time.Sleep(2 * time.Second)
	accepted := l.finish()
	checkNothingLost(t, n, accepted)
	if err := n.StartConsensus(ctx, down); err != nil {
		t.Fatal(err)
	}
	h, _ := waitConverged(t, n, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		head, err := n.Consensus(down).Store().Head(ctx)
		if err == nil && head.Height >= h {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("returning recorder did not catch up to %d", h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
