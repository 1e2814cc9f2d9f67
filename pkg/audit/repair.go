package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/nats-io/nats.go/jetstream"
)

// RepairOptions tunes Repair.
type RepairOptions struct {
	// JetStream reaches the network's LEDGER stream, where the blocks to
	// re-apply come from. Required.
	JetStream jetstream.JetStream
	// FromHeight cuts the chain from this height even when the audit finds
	// the first damage later (or none); 0 cuts where the audit finds it.
	FromHeight uint64
	// Audit tunes the audits before and after the repair.
	Audit Options
	// Log receives one line per step.
	Log func(format string, args ...any)
	// Every is how many re-applied blocks pass between two Log lines
	// (default 1000).
	Every uint64
}

// RepairReport is what Repair did.
type RepairReport struct {
	Before *Report
	// From is the first height removed; blocks from it on were re-applied
	// from the stream. Nothing was changed when Before was sound and no
	// FromHeight was asked for.
	From    uint64
	Changed bool
	Applied uint64 // blocks re-applied from the stream
	After   *Report
}

// ErrGenesisMismatch means the replica's stored genesis is not the trusted
// one: the stream cannot repair that; the replica must be re-created.
var ErrGenesisMismatch = errors.New("the replica's genesis is not the trusted genesis; re-create the replica")

// Repair restores a damaged replica: it audits it, cuts the chain back to
// the last sound block (from the first bad height, or opts.FromHeight if
// earlier), rebuilds the projections from the replay, then re-applies the
// following blocks from the LEDGER stream through chain.Applier, which
// verifies each one, and audits the result. It does not use the
// replicator's durable consumer (which acknowledged those blocks long ago).
// Stop the replica's replicator first: both would write the head.
func Repair(ctx context.Context, store *pgstore.Store, opts RepairOptions) (*RepairReport, error) {
	if opts.JetStream == nil {
		return nil, errors.New("repair: no JetStream connection")
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	before, err := Run(ctx, store, opts.Audit)
	if err != nil {
		return nil, err
	}
	rep := &RepairReport{Before: before, After: before}
	p := before.Problem
	if p != nil && p.Table == "chain_meta" {
		return rep, fmt.Errorf("repair: %v: %w", p, ErrGenesisMismatch)
	}
	if p == nil && opts.FromHeight == 0 {
		logf("replica is sound at height %d: nothing to repair", before.Height)
		return rep, nil
	}
	from := before.Height + 1
	if p != nil && p.InChain() {
		from = p.Height
	}
	if opts.FromHeight > 0 && opts.FromHeight < from {
		from = opts.FromHeight
	}
	rep.From = from
	if p != nil {
		logf("first damage: %v", p)
	}
	rp, err := replayBefore(ctx, store, before, from, opts.Audit)
	if err != nil {
		return rep, err
	}
	reason := fmt.Sprintf("repaired from height %d", from)
	if p != nil {
		reason += ": " + p.Error()
	}
	if err := rebuild(ctx, store, rp, from, reason); err != nil {
		return rep, err
	}
	rep.Changed = true
	if p != nil && !p.InChain() && opts.FromHeight == 0 {
		logf("the chain is sound: rebuilt the projections from the replay at height %d", rp.height)
	} else {
		logf("cut the chain back to height %d (%s) and rebuilt the projections", rp.height, rp.hash)
	}
	every := opts.Every
	if every == 0 {
		every = 1000
	}
	rep.Applied, err = reapply(ctx, store, opts.JetStream, rp.streamSeq, every, logf)
	if err != nil {
		return rep, err
	}
	after, err := Run(ctx, store, opts.Audit)
	if err != nil {
		return rep, err
	}
	rep.After = after
	if after.Sound() && after.Height < before.Stored {
		return rep, fmt.Errorf("repair: the replica held blocks up to %d but the stream gave only up to %d; restore from another replica", before.Stored, after.Height)
	}
	return rep, nil
}

// replayBefore is the replay of every block below from (the genesis alone
// when from is 0 or 1), reusing the audit's when it stopped there.
func replayBefore(ctx context.Context, store *pgstore.Store, before *Report, from uint64, o Options) (*replay, error) {
	want := uint64(0)
	if from > 0 {
		want = from - 1
	}
	if before.replay.height == want {
		return before.replay, nil
	}
	o.Stop = want + 1
	r, err := Run(ctx, store, o)
	if err != nil {
		return nil, err
	}
	if r.Problem != nil || r.replay.height != want {
		return nil, fmt.Errorf("repair: replaying up to height %d: %v", want, r.Problem)
	}
	return r.replay, nil
}
