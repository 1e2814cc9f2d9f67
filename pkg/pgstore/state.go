package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
)

// Head is the newest block of a replica and the log after it.
type Head struct {
	Height uint64
	Hash   string
	Header block.Header
	Log    *merklelog.Log
	Epoch  uint64
}

// Head reads the replica's head.
func (s *Store) Head(ctx context.Context) (*Head, error) {
	if s.Genesis == nil {
		return nil, ErrNoGenesis
	}
	var (
		h        Head
		height   int64
		logSize  int64
		epoch    int64
		frontier [][]byte
		header   string
	)
	err := s.Pool.QueryRow(ctx, `SELECT h.height, h.hash, h.log_size, h.frontier, h.epoch, b.header
		FROM head h JOIN blocks b ON b.height = h.height`).Scan(&height, &h.Hash, &logSize, &frontier, &epoch, &header)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoGenesis
	}
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	if err := json.Unmarshal([]byte(header), &h.Header); err != nil {
		return nil, fmt.Errorf("decode head header: %w", err)
	}
	h.Height, h.Epoch = uint64(height), uint64(epoch)
	if h.Log, err = merklelog.RestoreLog(s.Hasher, uint64(logSize), frontier); err != nil {
		return nil, fmt.Errorf("restore log at %d: %w", logSize, err)
	}
	return &h, nil
}

func getDoc[T any](ctx context.Context, s *Store, query string, arg any) (*T, error) {
	var raw []byte
	err := s.Pool.QueryRow(ctx, query, arg).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	return &v, nil
}

// Record implements ledger.StateReader.
func (s *Store) Record(ctx context.Context, id string) (*ledger.Record, error) {
	return getDoc[ledger.Record](ctx, s, `SELECT doc FROM records WHERE record_id = $1`, id)
}

// Committed implements ledger.StateReader.
func (s *Store) Committed(ctx context.Context, txID string) (bool, error) {
	var one int
	err := s.Pool.QueryRow(ctx, `SELECT 1 FROM txs WHERE tx_id = $1`, txID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Report implements ledger.StateReader.
func (s *Store) Report(ctx context.Context, id string) (*ledger.Report, error) {
	return getDoc[ledger.Report](ctx, s, `SELECT doc FROM reports WHERE id = $1`, id)
}

// RepairApplication implements ledger.StateReader.
func (s *Store) RepairApplication(ctx context.Context, id string) (*ledger.RepairApplication, error) {
	return getDoc[ledger.RepairApplication](ctx, s, `SELECT doc FROM repair_applications WHERE id = $1`, id)
}

// Objection implements ledger.StateReader.
func (s *Store) Objection(ctx context.Context, id string) (*ledger.Objection, error) {
	return getDoc[ledger.Objection](ctx, s, `SELECT doc FROM objections WHERE id = $1`, id)
}

// Certificate implements ledger.StateReader.
func (s *Store) Certificate(ctx context.Context, certNo string) (*ledger.Certificate, error) {
	return getDoc[ledger.Certificate](ctx, s, `SELECT doc FROM certificates WHERE cert_no = $1`, certNo)
}

// Policy implements ledger.StateReader.
func (s *Store) Policy(ctx context.Context, id string) (*ledger.PolicyState, error) {
	return getDoc[ledger.PolicyState](ctx, s, `SELECT doc FROM policies WHERE id = $1`, id)
}

// Membership implements ledger.StateReader: the newest epoch.
func (s *Store) Membership(ctx context.Context) (*membership.Epoch, error) {
	return s.epoch(ctx, `SELECT epoch, from_height, members FROM epochs ORDER BY epoch DESC LIMIT 1`)
}

// Epoch returns epoch number n.
func (s *Store) Epoch(ctx context.Context, n uint64) (*membership.Epoch, error) {
	return s.epoch(ctx, `SELECT epoch, from_height, members FROM epochs WHERE epoch = $1`, int64(n))
}

// Epochs returns every epoch in order.
func (s *Store) Epochs(ctx context.Context) ([]membership.Epoch, error) {
	rows, err := s.Pool.Query(ctx, `SELECT epoch, from_height, members FROM epochs ORDER BY epoch`)
	if err != nil {
		return nil, fmt.Errorf("read epochs: %w", err)
	}
	defer rows.Close()
	var out []membership.Epoch
	for rows.Next() {
		var e membership.Epoch
		var n, from int64
		var raw []byte
		if err := rows.Scan(&n, &from, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &e.Members); err != nil {
			return nil, err
		}
		e.Epoch, e.FromHeight = uint64(n), uint64(from)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) epoch(ctx context.Context, q string, args ...any) (*membership.Epoch, error) {
	var e membership.Epoch
	var n, from int64
	var raw []byte
	if err := s.Pool.QueryRow(ctx, q, args...).Scan(&n, &from, &raw); err != nil {
		return nil, fmt.Errorf("read membership: %w", err)
	}
	if err := json.Unmarshal(raw, &e.Members); err != nil {
		return nil, fmt.Errorf("decode membership: %w", err)
	}
	e.Epoch, e.FromHeight = uint64(n), uint64(from)
	return &e, nil
}

// QuorumRule implements ledger.StateReader.
func (s *Store) QuorumRule() string { return s.Genesis.Quorum }

// ReadNodes implements merklelog.NodeReader from the stored perfect subtrees.
func (s *Store) ReadNodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	levels := make([]int16, len(ids))
	idxs := make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int16(id.Level), int64(id.Index)
	}
	rows, err := s.Pool.Query(ctx, `SELECT n.level, n.idx, n.hash FROM log_nodes n
		JOIN unnest($1::smallint[], $2::bigint[]) AS q(level, idx) ON n.level = q.level AND n.idx = q.idx`, levels, idxs)
	if err != nil {
		return nil, fmt.Errorf("read log nodes: %w", err)
	}
	defer rows.Close()
	got := map[compact.NodeID][]byte{}
	for rows.Next() {
		var l int16
		var i int64
		var h []byte
		if err := rows.Scan(&l, &i, &h); err != nil {
			return nil, err
		}
		got[compact.NewNodeID(uint(l), uint64(i))] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := got[id]
		if !ok {
			return nil, fmt.Errorf("log node (%d,%d) missing", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// Block reads the block at height with its transactions.
func (s *Store) Block(ctx context.Context, height uint64) (*block.Block, error) {
	var header string
	var cosigs []byte
	b := &block.Block{}
	err := s.Pool.QueryRow(ctx, `SELECT hash, header, cosignatures, checkpoint FROM blocks WHERE height = $1`, int64(height)).
		Scan(&b.Hash, &header, &cosigs, &b.Checkpoint)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read block %d: %w", height, err)
	}
	if err := json.Unmarshal([]byte(header), &b.Header); err != nil {
		return nil, fmt.Errorf("decode header %d: %w", height, err)
	}
	if err := json.Unmarshal(cosigs, &b.Cosignatures); err != nil {
		return nil, fmt.Errorf("decode cosignatures %d: %w", height, err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT envelope FROM txs WHERE height = $1 ORDER BY position`, int64(height))
	if err != nil {
		return nil, fmt.Errorf("read transactions of %d: %w", height, err)
	}
	defer rows.Close()
	b.Txs = []json.RawMessage{}
	for rows.Next() {
		var env []byte
		if err := rows.Scan(&env); err != nil {
			return nil, err
		}
		b.Txs = append(b.Txs, env)
	}
	if height == 0 {
		b.Genesis = s.Genesis
	}
	return b, rows.Err()
}

// BlockHash returns the hash of the block at height, or "" when absent.
func (s *Store) BlockHash(ctx context.Context, height uint64) (string, error) {
	var h string
	err := s.Pool.QueryRow(ctx, `SELECT hash FROM blocks WHERE height = $1`, int64(height)).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read block hash %d: %w", height, err)
	}
	return h, nil
}

// Decision is a transaction's newest decision as the receipts table holds
// it: committed, or rejected with a code.
type Decision struct {
	TxID   string
	Status string
	Height uint64
	Code   string
}

// DecisionsBetween returns the newest decision of every transaction decided
// in blocks (after, through], in block order. A transaction rejected there
// and committed later appears once, as committed.
func (s *Store) DecisionsBetween(ctx context.Context, after, through uint64) ([]Decision, error) {
	rows, err := s.Pool.Query(ctx, `SELECT tx_id, status, height, code FROM receipts
		WHERE height > $1 AND height <= $2 ORDER BY height, tx_id`, int64(after), int64(through))
	if err != nil {
		return nil, fmt.Errorf("read decisions of heights (%d, %d]: %w", after, through, err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var h int64
		if err := rows.Scan(&d.TxID, &d.Status, &h, &d.Code); err != nil {
			return nil, fmt.Errorf("read decisions: %w", err)
		}
		d.Height = uint64(h)
		out = append(out, d)
	}
	return out, rows.Err()
}

// CommittedAmong returns which of ids are committed, in one query.
func (s *Store) CommittedAmong(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT tx_id FROM txs WHERE tx_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("look up committed transactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
