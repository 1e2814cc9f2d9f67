package consensus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// leaderView is the leader as this node last saw it in etcd: its
// institution and its election revision, which is the view number.
type leaderView struct {
	mu   sync.RWMutex
	id   string
	view uint64
}

func (l *leaderView) get() (string, uint64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.id, l.view
}

func (l *leaderView) set(id string, view uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.id, l.view = id, view
}

// observeLeader follows the election so that votes go only to the current
// leader in its current view: a deposed leader's proposals are refused.
func (n *Node) observeLeader(ctx context.Context) {
	for ctx.Err() == nil {
		s, err := concurrency.NewSession(n.etcd, concurrency.WithContext(ctx))
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		e := concurrency.NewElection(s, registry.ElectionPrefix(n.cfg.Genesis.ChainID))
		for resp := range e.Observe(ctx) {
			if len(resp.Kvs) > 0 {
				n.leader.set(string(resp.Kvs[0].Value), uint64(resp.Kvs[0].CreateRevision))
			}
		}
		s.Close()
	}
}

// refusalSkew starts a refusal for a proposal time too far from the voter's
// clock; the leader then starts a new view at once with a fresh time instead
// of retrying a proposal that can never gather a quorum.
const refusalSkew = "clock skew"

// Vote is a recorder's answer to a proposal.
type Vote struct {
	Cosignature *block.Cosignature
	// Checkpoint is the checkpoint body signed by this recorder alone; the
	// leader merges every vote's into the block's checkpoint.
	Checkpoint string
	Refusal    string
}

func (n *Node) handleProposal(m *nats.Msg) {
	var v *Vote
	p, err := decodeProposal(m.Data)
	if err != nil {
		v = &Vote{Refusal: "malformed proposal: " + err.Error()}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.VoteTimeout)
		v, err = n.vote(ctx, p, false)
		cancel()
		if err != nil {
			v = &Vote{Refusal: err.Error()}
			metricRefusedVotes.WithLabelValues(n.cfg.Key.Institution).Inc()
		}
	}
	data, _ := encodeVote(v)
	_ = m.Respond(data)
}

// vote re-executes the proposal against this node's own state and cosigns the
// block it yields, if it is the one proposed. The vote is persisted first:
// at most one block per height per view, whatever happens after.
func (n *Node) vote(ctx context.Context, p *chain.Proposal, own bool) (*Vote, error) {
	if !own {
		id, view := n.leader.get()
		if p.Proposer != id || p.View != view {
			return nil, fmt.Errorf("proposal from %s in view %d, but the leader is %s in view %d", p.Proposer, p.View, id, view)
		}
		t, err := txn.ParseTime(p.Time)
		if err != nil {
			return nil, err
		}
		if d := t.Sub(n.cfg.Clock()); d > n.cfg.MaxSkew || d < -n.cfg.MaxSkew {
			return nil, fmt.Errorf("%s: proposal time %s is %s away from this recorder's clock", refusalSkew, p.Time, d)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if lv := n.lastVote; lv.vote != nil && lv.height == p.Height && lv.view == p.View && lv.hash == p.Hash {
		return lv.vote, nil
	}
	head, err := n.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if head.Height+1 < p.Height {
		// Behind: catch up from the stream before judging.
		if _, err := n.syncLocked(ctx); err != nil {
			return nil, err
		}
		if head, err = n.store.Head(ctx); err != nil {
			return nil, err
		}
	}
	if err := n.checkProposer(ctx, p.Proposer); err != nil {
		return nil, err
	}
	// The TXS range the proposal covers is read while the block re-executes.
	cov, err := n.startCoverage(ctx, head, p)
	if err != nil {
		return nil, err
	}
	defer cov.wait()
	built, err := n.applier.Build(ctx, head, p)
	if err != nil {
		return nil, err
	}
	if built.Block.Hash != p.Hash {
		return nil, fmt.Errorf("re-executing the proposal for %d gives block %s, not %s", p.Height, built.Block.Hash, p.Hash)
	}
	if err := n.checkCoverage(p, cov); err != nil {
		return nil, err
	}
	var have string
	if err := n.store.Pool.QueryRow(ctx, `INSERT INTO votes (height, view, hash) VALUES ($1,$2,$3)
		ON CONFLICT (height, view) DO UPDATE SET height = votes.height RETURNING hash`,
		int64(p.Height), int64(p.View), p.Hash).Scan(&have); err != nil {
		return nil, fmt.Errorf("persist vote: %w", err)
	}
	if have != p.Hash {
		return nil, fmt.Errorf("already voted for %s at height %d in view %d", have, p.Height, p.View)
	}
	v, err := n.sign(built.Block)
	if err != nil {
		return nil, err
	}
	n.built[built.Block.Hash] = built
	n.lastVote.height, n.lastVote.view, n.lastVote.hash, n.lastVote.vote = p.Height, p.View, p.Hash, v
	return v, nil
}

func (n *Node) sign(b *block.Block) (*Vote, error) {
	cs, err := block.Cosign(n.suite, n.key, n.cfg.Key.Institution, n.cfg.Key.KeyID, b.Header.Chain, b.Hash)
	if err != nil {
		return nil, err
	}
	root, err := hexRoot(b.Header.LogRoot)
	if err != nil {
		return nil, err
	}
	signer, err := checkpoint.NewSigner(n.cfg.Key.Institution, n.suite, n.key)
	if err != nil {
		return nil, err
	}
	note, err := checkpoint.Sign(checkpoint.Body(b.Header.Chain, b.Header.LogSize, root), signer)
	if err != nil {
		return nil, err
	}
	n.stats.add(func(s *Stats) { s.Votes++ })
	metricVotes.WithLabelValues(n.cfg.Key.Institution).Inc()
	return &Vote{Cosignature: &cs, Checkpoint: note}, nil
}
