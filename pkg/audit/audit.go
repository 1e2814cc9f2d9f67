// Package audit checks a replica end to end without trusting anything it
// derived (DESIGN 2: "a replica that someone edits in its own database is
// detected"), and repairs a damaged one from the LEDGER stream.
//
// The audit replays the chain from the genesis, block by block, from the
// rows a replica stores: every header's hash, link and cosignature quorum
// against the membership replayed from member.update transactions, every
// transaction's envelope, signature and rules re-executed over an in-memory
// state, the roots recomputed from the stored envelopes, and the stored
// Merkle nodes compared with the replayed log. Only when the chain is sound
// are the head row and the projections (records, reports, ...) compared
// with the replayed state, because a projection can only be judged against
// a chain that is itself right.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/jackc/pgx/v5"
)

// Options tunes an audit.
type Options struct {
	// Genesis, when set, anchors trust: the genesis the replica stores must
	// hash to this one's hash. Without it the stored genesis is trusted.
	Genesis *block.Genesis
	// Stop ends the replay before height Stop, skipping the checks that need
	// the whole chain (leftover rows, head, projections); 0 replays all.
	Stop uint64
	// Progress is called every Every blocks (default 1000) and at the end.
	Progress func(Progress)
	Every    uint64
}

// Progress is how far an audit got.
type Progress struct {
	Height  uint64 // last block checked
	Head    uint64 // highest stored block
	Txs     uint64
	Elapsed time.Duration
}

// Report is the outcome of an audit.
type Report struct {
	GenesisHash string
	// Height is the last block that replayed soundly: the head of a sound
	// replica, the block before the first bad one otherwise.
	Height uint64
	// Stored is the highest block height the replica stores, sound or not.
	Stored  uint64
	Blocks  uint64 // blocks replayed, the genesis included
	Txs     uint64 // transactions replayed
	Elapsed time.Duration
	// Problem is the first damage found, nil when the replica is sound.
	Problem *Problem

	replay *replay // the state after Height, for Repair
}

// Sound reports whether the audit found nothing wrong.
func (r *Report) Sound() bool { return r.Problem == nil }

// Problem is the first damage an audit found.
type Problem struct {
	// Height is the first bad height. For a projection it is the height
	// of the replayed chain the projection was compared with (the head).
	Height uint64
	Table  string // blocks, txs, log_nodes, head, chain_meta, records, ...
	Row    string // e.g. "tx_id=ab12… position 3"; empty for a whole table
	Detail string
}

// chainTables are the tables that are the chain itself; the others are
// projections derived from it.
var chainTables = map[string]bool{"chain_meta": true, "blocks": true, "txs": true, "log_nodes": true, "head": true}

// InChain reports whether the damage is in the chain (blocks, transactions,
// Merkle nodes, head) rather than in a projection.
func (p *Problem) InChain() bool { return chainTables[p.Table] }

func (p *Problem) Error() string {
	var b strings.Builder
	if p.InChain() {
		fmt.Fprintf(&b, "height %d: ", p.Height)
	}
	b.WriteString(p.Table)
	if p.Row != "" {
		b.WriteString(" row " + p.Row)
	}
	b.WriteString(": " + p.Detail)
	return b.String()
}

func problem(height uint64, table, row, format string, args ...any) *Problem {
	return &Problem{Height: height, Table: table, Row: row, Detail: fmt.Sprintf(format, args...)}
}

// Verify audits the replica with default options.
func Verify(ctx context.Context, store *pgstore.Store) (*Report, error) {
	return Run(ctx, store, Options{})
}

// Run audits the replica. Damage is reported in Report.Problem; an error
// means the audit itself could not run (connection, missing schema).
func Run(ctx context.Context, store *pgstore.Store, opts Options) (*Report, error) {
	if store.Genesis == nil {
		return nil, errors.New("audit: the replica has no genesis (chain_meta is empty)")
	}
	if opts.Every == 0 {
		opts.Every = 1000
	}
	start := time.Now()
	// One read-only snapshot: the replica may be running, and a half-applied
	// block seen by one cursor and not another would look like damage.
	tx, err := store.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("audit: begin snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	rp, err := newReplay(store.Genesis)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	a := &auditor{tx: tx, opts: opts, rp: rp, start: start}
	p, err := a.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	rep := &Report{
		GenesisHash: rp.genesisHash, Height: rp.height, Stored: a.maxHeight, Blocks: a.blocks, Txs: a.txs,
		Elapsed: time.Since(start), Problem: p, replay: rp,
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Height: rp.height, Head: a.maxHeight, Txs: a.txs, Elapsed: rep.Elapsed})
	}
	return rep, nil
}

// auditor is one audit run over one snapshot.
type auditor struct {
	tx    pgx.Tx
	opts  Options
	rp    *replay
	start time.Time

	blocks, txs uint64
	maxHeight   uint64
	txCur       *cursor[txRow]
	nodeCur     *cursor[nodeRow]
}

func (a *auditor) run(ctx context.Context) (*Problem, error) {
	var maxH *int64
	if err := a.tx.QueryRow(ctx, `SELECT max(height) FROM blocks`).Scan(&maxH); err != nil {
		return nil, fmt.Errorf("read chain height: %w", err)
	}
	if maxH != nil {
		a.maxHeight = uint64(*maxH)
	}
	if p := a.checkGenesisMeta(); p != nil {
		return p, nil
	}
	p, err := a.walk(ctx)
	if p != nil || err != nil || a.stopped() {
		return p, err
	}
	if p, err := a.leftovers(ctx); p != nil || err != nil {
		return p, err
	}
	if p, err := a.checkHead(ctx); p != nil || err != nil {
		return p, err
	}
	return a.checkProjections(ctx)
}

// stopped reports whether the replay ended at Options.Stop.
func (a *auditor) stopped() bool { return a.opts.Stop > 0 && a.rp.height+1 >= a.opts.Stop }
