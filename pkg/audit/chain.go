package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/txn"
)

// checkGenesisMeta anchors the stored genesis to the one the caller trusts.
func (a *auditor) checkGenesisMeta() *Problem {
	if err := a.rp.genesis.Validate(); err != nil {
		return problem(0, "chain_meta", "key=genesis", "stored genesis is invalid: %v", err)
	}
	if a.opts.Genesis == nil {
		return nil
	}
	want, err := a.opts.Genesis.Block(a.rp.suite)
	if err != nil {
		return problem(0, "chain_meta", "key=genesis", "the given genesis: %v", err)
	}
	if want.Hash != a.rp.genesisHash {
		return problem(0, "chain_meta", "key=genesis", "stored genesis hashes to %s, the given genesis to %s", a.rp.genesisHash, want.Hash)
	}
	return nil
}

// walk replays every stored block in height order. It returns the first
// problem; the replay then holds the state after the last sound block.
func (a *auditor) walk(ctx context.Context) (*Problem, error) {
	blocks, err := openCursor(ctx, a.tx, "audit_blocks", blocksQuery, scanBlock)
	if err != nil {
		return nil, err
	}
	if a.txCur, err = openCursor(ctx, a.tx, "audit_txs", txsQuery, scanTx); err != nil {
		return nil, err
	}
	if a.nodeCur, err = openCursor(ctx, a.tx, "audit_nodes", nodesQuery, scanNode); err != nil {
		return nil, err
	}
	first, ok, err := blocks.next(ctx)
	if err != nil {
		return nil, err
	}
	if !ok || first.height != 0 {
		return problem(0, "blocks", "height=0", "the genesis block row is missing"), nil
	}
	if p, err := a.genesisBlock(ctx, first); p != nil || err != nil {
		return p, err
	}
	a.blocks++
	for !a.stopped() {
		b, ok, err := blocks.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		want := a.rp.height + 1
		if uint64(b.height) != want {
			return problem(want, "blocks", fmt.Sprintf("height=%d", want), "row missing (the next stored block is %d)", b.height), nil
		}
		if p, err := a.block(ctx, b); p != nil || err != nil {
			return p, err
		}
		a.blocks++
		if a.opts.Progress != nil && a.rp.height%a.opts.Every == 0 {
			a.opts.Progress(Progress{Height: a.rp.height, Head: a.maxHeight, Txs: a.txs, Elapsed: time.Since(a.start)})
		}
	}
	return nil, nil
}

// genesisBlock checks the height-0 row is the block the genesis defines.
func (a *auditor) genesisBlock(ctx context.Context, b blockRow) (*Problem, error) {
	row := "height=0"
	want, err := a.rp.genesis.Block(a.rp.suite)
	if err != nil {
		return nil, err
	}
	h, err := block.DecodeHeader([]byte(b.header))
	if err != nil {
		return problem(0, "blocks", row, "header: %v", err), nil
	}
	if *h != want.Header {
		return problem(0, "blocks", row, "header does not match the stored genesis"), nil
	}
	if b.hash != want.Hash || b.prev != block.ZeroHash || b.epoch != 0 || b.logSize != 0 {
		return problem(0, "blocks", row, "hash, prev, epoch or log_size column differs from the genesis header (hash %s, want %s)", b.hash, want.Hash), nil
	}
	if p := checkTimeColumn(0, b, h.Time); p != nil {
		return p, nil
	}
	var cosigs []block.Cosignature
	if err := json.Unmarshal(b.cosigs, &cosigs); err != nil || len(cosigs) != 0 {
		return problem(0, "blocks", row, "the genesis carries cosignatures"), nil
	}
	if t, ok, err := a.txCur.peek(ctx); err != nil {
		return nil, err
	} else if ok && t.height <= 0 {
		return problem(0, "txs", t.name(), "a transaction at height %d (the genesis has none)", t.height), nil
	}
	return nil, nil
}

func checkTimeColumn(height uint64, b blockRow, headerTime string) *Problem {
	t, err := time.Parse(time.RFC3339Nano, headerTime)
	// timestamptz keeps microseconds: the column may lose the nanoseconds.
	if d := t.Sub(b.time); err != nil || d <= -time.Microsecond || d >= time.Microsecond {
		return problem(height, "blocks", fmt.Sprintf("height=%d", height), "time column %s, header says %s", b.time.UTC().Format(time.RFC3339Nano), headerTime)
	}
	return nil
}

// block checks one block row and its transactions and nodes, and advances
// the replay past it.
func (a *auditor) block(ctx context.Context, b blockRow) (*Problem, error) {
	height := uint64(b.height)
	row := fmt.Sprintf("height=%d", height)
	s := a.rp.suite
	h, err := block.DecodeHeader([]byte(b.header))
	if err != nil {
		return problem(height, "blocks", row, "header: %v", err), nil
	}
	// Hash first, then cosignatures: once the header is known to be what a
	// quorum signed, a later mismatch must be in the rows under it.
	hash, err := h.Hash(s)
	if err != nil {
		return problem(height, "blocks", row, "header: %v", err), nil
	}
	if hash != b.hash {
		return problem(height, "blocks", row, "header hashes to %s, hash column says %s", hash, b.hash), nil
	}
	if h.Height != height {
		return problem(height, "blocks", row, "header says height %d", h.Height), nil
	}
	if b.prev != h.Prev || b.epoch != int64(h.Epoch) || b.logSize != int64(h.LogSize) {
		return problem(height, "blocks", row, "prev, epoch or log_size column differs from the header"), nil
	}
	if p := checkTimeColumn(height, b, h.Time); p != nil {
		return p, nil
	}
	var cosigs []block.Cosignature
	if err := json.Unmarshal(b.cosigs, &cosigs); err != nil {
		return problem(height, "blocks", row, "cosignatures: %v", err), nil
	}
	epoch, err := a.rp.state.Membership(ctx)
	if err != nil {
		return nil, err
	}
	if err := block.VerifyCosignatures(s, h.Chain, hash, cosigs, epoch, a.rp.genesis.Quorum); err != nil {
		return problem(height, "blocks", row, "%v", stripBlock(err)), nil
	}

	txs, decoded, p, err := a.blockTxs(ctx, height, h.TxCount, a.rp.log.Size())
	if p != nil || err != nil {
		return p, err
	}
	if len(txs) < h.TxCount {
		return problem(height, "txs", fmt.Sprintf("position %d", len(txs)), "row missing: the header says %d transactions, %d rows are stored", h.TxCount, len(txs)), nil
	}
	blk := &block.Block{Header: *h, Hash: b.hash, Cosignatures: cosigs, Txs: make([]json.RawMessage, len(txs)), Checkpoint: b.checkpoint}
	for i, t := range txs {
		blk.Txs[i] = t.envelope
	}
	next, nodes, err := block.VerifyNextNodes(s, &a.rp.header, blk, epoch, a.rp.genesis.Quorum, a.rp.log)
	if err != nil {
		var ve *block.VerifyError
		if errors.As(err, &ve) && (ve.Check == "tx_root" || ve.Check == "log_size" || ve.Check == "log_root") {
			return problem(height, "txs", "", "envelopes do not match the header: %s: %s", ve.Check, ve.Message), nil
		}
		return problem(height, "blocks", row, "%v", stripBlock(err)), nil
	}

	batch := ledger.NewBatch(a.rp.state)
	lb := ledger.Block{Height: height}
	if lb.Time, err = txn.ParseTime(h.Time); err != nil {
		return problem(height, "blocks", row, "time: %v", err), nil
	}
	for i, tx := range decoded {
		if err := a.rp.exec.Execute(ctx, batch, lb, tx); err != nil {
			var rej *ledger.Rejection
			if errors.As(err, &rej) {
				return problem(height, "txs", txs[i].name(), "transaction is invalid: %v", rej), nil
			}
			return nil, fmt.Errorf("execute %s: %w", tx.ID, err)
		}
	}
	if p, err := a.blockNodes(ctx, height, next.Size(), nodes); p != nil || err != nil {
		return p, err
	}
	var seq uint64
	if b.streamSeq != nil && *b.streamSeq > 0 {
		seq = uint64(*b.streamSeq)
	}
	a.txs += uint64(len(txs))
	a.rp.advance(*h, hash, batch, next, seq)
	return nil, nil
}

// blockTxs reads the txs rows of height, at most count (the header's
// tx_count, which the cosignatures vouch for): contiguous positions and leaf
// indexes from logSize on, each envelope decoding to its own tx id, type
// and submitter.
func (a *auditor) blockTxs(ctx context.Context, height uint64, count int, logSize uint64) ([]txRow, []*ledger.Tx, *Problem, error) {
	var (
		rows    []txRow
		decoded []*ledger.Tx
	)
	for {
		t, ok, err := a.txCur.peek(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok || t.height > int64(height) {
			return rows, decoded, nil, nil
		}
		if _, _, err := a.txCur.next(ctx); err != nil {
			return nil, nil, nil, err
		}
		if t.height < int64(height) {
			return nil, nil, problem(uint64(max(t.height, 0)), "txs", t.name(), "a transaction of height %d outside its block", t.height), nil
		}
		i := len(rows)
		if i == count {
			return nil, nil, problem(height, "txs", t.name(), "a row beyond the header's %d transactions", count), nil
		}
		if int(t.position) != i {
			return nil, nil, problem(height, "txs", fmt.Sprintf("position %d", i), "row missing (the next row is %s)", t.name()), nil
		}
		if t.leaf != int64(logSize)+int64(i) {
			return nil, nil, problem(height, "txs", t.name(), "leaf_index %d, want %d", t.leaf, int64(logSize)+int64(i)), nil
		}
		tx, rej := a.rp.exec.Decode(t.envelope)
		if rej != nil {
			return nil, nil, problem(height, "txs", t.name(), "envelope does not decode: %v", rej), nil
		}
		if tx.ID != t.id {
			return nil, nil, problem(height, "txs", t.name(), "envelope hashes to tx id %s, not to the row's tx_id (the envelope or the id was edited)", tx.ID), nil
		}
		if tx.Envelope.Type != t.typ || tx.Envelope.Submitter != t.submitter {
			return nil, nil, problem(height, "txs", t.name(), "type or submitter column differs from the envelope (%s by %s)", tx.Envelope.Type, tx.Envelope.Submitter), nil
		}
		rows = append(rows, t)
		decoded = append(decoded, tx)
	}
}

// blockNodes compares the stored nodes that the block's leaves completed
// (every node whose last leaf is below size) with the replayed ones.
func (a *auditor) blockNodes(ctx context.Context, height, size uint64, nodes []merklelog.Node) (*Problem, error) {
	want := make(map[merklelog.NodeID][]byte, len(nodes))
	for _, n := range nodes {
		want[n.ID] = n.Hash
	}
	for {
		n, ok, err := a.nodeCur.peek(ctx)
		if err != nil {
			return nil, err
		}
		if !ok || n.level < 0 || n.level > 62 || n.idx < 0 || completes(uint(n.level), uint64(n.idx)) >= size {
			// Rows that cannot be nodes are left for leftovers to name.
			if ok && (n.level < 0 || n.level > 62 || n.idx < 0) {
				return problem(height, "log_nodes", n.name(), "not a node of any log"), nil
			}
			break
		}
		if _, _, err := a.nodeCur.next(ctx); err != nil {
			return nil, err
		}
		id := merklelog.NodeID{Level: uint(n.level), Index: uint64(n.idx)}
		h, ok := want[id]
		if !ok {
			return problem(height, "log_nodes", n.name(), "a node this block's leaves do not make"), nil
		}
		if !bytes.Equal(h, n.hash) {
			return problem(height, "log_nodes", n.name(), "hash %s, replay says %s", hex.EncodeToString(n.hash), hex.EncodeToString(h)), nil
		}
		delete(want, id)
	}
	if len(want) > 0 {
		var first *merklelog.Node
		for i := range nodes {
			if _, missing := want[nodes[i].ID]; missing {
				first = &nodes[i]
				break
			}
		}
		return problem(height, "log_nodes", fmt.Sprintf("level=%d idx=%d", first.ID.Level, first.ID.Index), "row missing"), nil
	}
	return nil, nil
}

// stripBlock drops the "block N: " prefix of a *block.VerifyError, since a
// Problem names the height itself.
func stripBlock(err error) string {
	var ve *block.VerifyError
	if errors.As(err, &ve) {
		return ve.Check + ": " + ve.Message
	}
	return err.Error()
}
