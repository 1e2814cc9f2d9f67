package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/registry"
)

// errNotRecorder ends a leadership term: a node that the membership in
// force no longer counts as an active recorder may not propose, since no
// recorder would vote for it and its own cosignature would not count.
var errNotRecorder = errors.New("this institution is not an active recorder of the membership in force")

// isActiveRecorder reports whether id is an active recorder of e.
func isActiveRecorder(e *membership.Epoch, id string) bool {
	for _, r := range e.Recorders() {
		if r.ID == id {
			return true
		}
	}
	return false
}

// blockApplied tells the epoch publisher that the head moved. It never
// blocks: the publisher reads the newest epoch itself, so wake-ups coalesce.
func (n *Node) blockApplied() {
	select {
	case n.epochWake <- struct{}{}:
	default:
	}
}

// publishEpochs publishes each new membership epoch this node's replica
// commits to etcd (DESIGN 6), where intake and the other services follow
// it. Every recorder does it: Publish is a compare-and-swap on the epoch
// number, so the first one wins, the others' attempts are no-ops, and a
// lagging node can never put an older epoch back. It runs off the block
// path so that a slow etcd never delays a block; the periodic retry covers
// an etcd that was unreachable when the block was applied.
func (n *Node) publishEpochs(ctx context.Context) {
	var published uint64
	done := false
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		e, err := n.store.Membership(ctx)
		if err == nil && (!done || e.Epoch > published) {
			if _, err := registry.Publish(ctx, n.etcd, n.cfg.Genesis.ChainID, e); err != nil {
				if ctx.Err() == nil {
					n.cfg.Logger.Warn("publish membership epoch", "institution", n.cfg.Key.Institution, "epoch", e.Epoch, "err", err)
				}
			} else {
				published, done = e.Epoch, true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-n.epochWake:
		case <-t.C:
		}
	}
}

// mayCampaign reports whether this node should run for leader: only while
// both its replica and etcd (when etcd is ahead: the node may be lagging
// behind its own removal) count it as an active recorder. A newly admitted
// recorder thus campaigns only once its replica has applied its admission.
func (n *Node) mayCampaign(ctx context.Context) bool {
	e, err := n.store.Membership(ctx)
	if err != nil || !isActiveRecorder(e, n.cfg.Key.Institution) {
		return false
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if cur, err := registry.Load(lctx, n.etcd, n.cfg.Genesis.ChainID); err == nil && cur != nil && cur.Epoch > e.Epoch {
		return isActiveRecorder(cur, n.cfg.Key.Institution)
	}
	return true
}

// checkProposer refuses a proposal whose proposer, or this node itself, is
// not an active recorder of the epoch the block would be in: a removed or
// suspended recorder cannot lead, and a removed node does not cosign.
func (n *Node) checkProposer(ctx context.Context, proposer string) error {
	e, err := n.store.Membership(ctx)
	if err != nil {
		return err
	}
	if !isActiveRecorder(e, proposer) {
		return fmt.Errorf("proposer %s is not an active recorder of epoch %d", proposer, e.Epoch)
	}
	if !isActiveRecorder(e, n.cfg.Key.Institution) {
		return fmt.Errorf("%s is not an active recorder of epoch %d and does not vote", n.cfg.Key.Institution, e.Epoch)
	}
	return nil
}
