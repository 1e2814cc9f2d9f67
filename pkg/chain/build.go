package chain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Proposal is what a leader sends recorders: the block's context and every
// candidate transaction it consumed, valid or not. A recorder rebuilds the
// block from it with its own state and votes only if it gets the same hash,
// so it independently agrees both with what commits and with what is
// rejected.
type Proposal struct {
	Height     uint64   `json:"height"`
	Prev       string   `json:"prev"`
	Time       string   `json:"time"`
	View       uint64   `json:"view"`
	Proposer   string   `json:"proposer"`
	Candidates [][]byte `json:"candidates"` // canonical envelopes, in TXS order
	TxsSeq     uint64   `json:"txs_seq"`    // last TXS sequence consumed
	Hash       string   `json:"hash"`       // the proposer's block hash
}

// Built is a block built from a proposal, with its state changes.
type Built struct {
	Block  *block.Block
	Update *pgstore.BlockUpdate
}

// Build executes the proposal's candidates over the state at head and makes
// the block: candidates that fail are rejected with their reason, those
// already committed are dropped (a redelivery after a leader change).
func (a *Applier) Build(ctx context.Context, head *pgstore.Head, p *Proposal) (*Built, error) {
	if p.Height != head.Height+1 || p.Prev != head.Hash {
		return nil, fmt.Errorf("proposal for %d on %s does not extend head %d (%s)", p.Height, p.Prev, head.Height, head.Hash)
	}
	t, err := txn.ParseTime(p.Time)
	if err != nil {
		return nil, fmt.Errorf("proposal time: %w", err)
	}
	prevTime, err := txn.ParseTime(head.Header.Time)
	if err != nil {
		return nil, err
	}
	if !t.After(prevTime) {
		return nil, fmt.Errorf("proposal time %s is not after the previous block's %s", p.Time, head.Header.Time)
	}
	epoch, err := a.Store.Membership(ctx)
	if err != nil {
		return nil, err
	}
	blk := ledger.Block{Height: p.Height, Time: t}
	batch := ledger.NewBatch(a.Store)
	var (
		txs      []*ledger.Tx
		raws     []json.RawMessage
		rejected []block.Rejection
		seen     = map[string]bool{}
	)
	decoded := make([]*ledger.Tx, len(p.Candidates))
	ids := make([]string, 0, len(p.Candidates))
	for i, raw := range p.Candidates {
		tx, rej := a.Exec.Decode(raw)
		if rej != nil {
			if tx != nil {
				rejected = append(rejected, block.Rejection{TxID: tx.ID, Reason: rej.Code})
			}
			continue
		}
		decoded[i] = tx
		ids = append(ids, tx.ID)
	}
	if err := batch.Prefetch(ctx, ids); err != nil {
		return nil, err
	}
	if err := a.Exec.VerifySignatures(ctx, batch, decoded); err != nil {
		return nil, err
	}
	for _, tx := range decoded {
		if tx == nil || seen[tx.ID] {
			continue
		}
		seen[tx.ID] = true
		if err := a.Exec.Execute(ctx, batch, blk, tx); err != nil {
			var r *ledger.Rejection
			if !errors.As(err, &r) {
				return nil, err
			}
			if r.Code != "duplicate" {
				rejected = append(rejected, block.Rejection{TxID: tx.ID, Reason: r.Code})
			}
			continue
		}
		canon, err := tx.Envelope.Canonical()
		if err != nil {
			return nil, err
		}
		txs = append(txs, tx)
		raws = append(raws, canon)
	}
	next, nodes, err := VerifyLog(head.Log, raws)
	if err != nil {
		return nil, err
	}
	root, err := next.Root()
	if err != nil {
		return nil, err
	}
	txRoot, err := block.TxRoot(a.Store.Suite, raws)
	if err != nil {
		return nil, err
	}
	h := block.Header{
		Chain: a.Store.Genesis.ChainID, Height: p.Height, Prev: head.Hash, Time: p.Time,
		View: p.View, Proposer: p.Proposer, Epoch: epoch.Epoch, TxCount: len(raws),
		TxRoot: txRoot, LogSize: next.Size(), LogRoot: hex.EncodeToString(root),
	}
	hash, err := h.Hash(a.Store.Suite)
	if err != nil {
		return nil, err
	}
	if raws == nil {
		raws = []json.RawMessage{}
	}
	b := &block.Block{Header: h, Hash: hash, Txs: raws, Rejected: rejected}
	u := &pgstore.BlockUpdate{Block: b, Txs: txs, Batch: batch, Nodes: nodes, Log: next}
	if err := a.collectSidecars(ctx, u); err != nil {
		return nil, err
	}
	return &Built{Block: b, Update: u}, nil
}

// FormatTime is the block time format: RFC 3339 UTC with nanoseconds.
func FormatTime(t time.Time) string { return txn.FormatTime(t) }
