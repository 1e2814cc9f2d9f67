package audit

import (
	"bytes"
	"context"
	"fmt"
)

// leftovers names rows the walk did not consume: transactions or nodes
// past the last block. They are damage at the height after the chain.
func (a *auditor) leftovers(ctx context.Context) (*Problem, error) {
	next := a.rp.height + 1
	if t, ok, err := a.txCur.peek(ctx); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return problem(next, "txs", t.name(), "a transaction at height %d, beyond the last block %d", t.height, a.rp.height), nil
	}
	if n, ok, err := a.nodeCur.peek(ctx); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return problem(next, "log_nodes", n.name(), "a node beyond the log of %d leaves", a.rp.log.Size()), nil
	}
	return nil, nil
}

// checkHead compares the head row with the replayed chain: the block it
// names and the Merkle frontier that appends resume from.
func (a *auditor) checkHead(ctx context.Context) (*Problem, error) {
	rows, err := a.tx.Query(ctx, `SELECT height, hash, log_size, frontier, epoch FROM head`)
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	defer rows.Close()
	next := a.rp.height + 1
	n := 0
	var (
		height, logSize, epoch int64
		hash                   string
		frontier               [][]byte
	)
	for rows.Next() {
		n++
		if err := rows.Scan(&height, &hash, &logSize, &frontier, &epoch); err != nil {
			return nil, fmt.Errorf("read head: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	if n != 1 {
		return problem(next, "head", "", "%d rows, want 1", n), nil
	}
	rp := a.rp
	switch {
	case height != int64(rp.height) || hash != rp.hash:
		return problem(next, "head", "", "names block %d %s, the chain ends at %d %s", height, hash, rp.height, rp.hash), nil
	case logSize != int64(rp.log.Size()) || epoch != int64(rp.header.Epoch):
		return problem(next, "head", "", "log_size %d epoch %d, replay says %d and %d", logSize, epoch, rp.log.Size(), rp.header.Epoch), nil
	}
	want := rp.log.Frontier()
	if len(frontier) != len(want) {
		return problem(next, "head", "", "frontier has %d hashes, replay says %d", len(frontier), len(want)), nil
	}
	for i := range want {
		if !bytes.Equal(frontier[i], want[i]) {
			return problem(next, "head", "", "frontier hash %d differs from the replayed log", i), nil
		}
	}
	return nil, nil
}
