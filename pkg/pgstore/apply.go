package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// ErrHeadMoved means another writer applied a block first; re-read the head.
var ErrHeadMoved = errors.New("replica head moved: the block's parent is no longer the head")

// BlockUpdate is everything one verified block changes in a replica.
type BlockUpdate struct {
	Block     *block.Block
	Txs       []*ledger.Tx // decoded, in block order
	Batch     *ledger.Batch
	Nodes     []merklelog.Node
	Log       *merklelog.Log // the log after the block
	StreamSeq uint64
	Sidecars  map[string]*txn.Personal // by commitment, for person records created in the block
}

// ApplyBlock writes u in one transaction, only if u's parent is still the
// head; extra, when not nil, runs inside the same transaction so that callers
// can add their own rows atomically. Retrying after an error is safe: the
// transaction either committed whole or not at all.
func (s *Store) ApplyBlock(ctx context.Context, u *BlockUpdate, extra func(pgx.Tx) error) error {
	h := u.Block.Header
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		frontier := u.Log.Frontier()
		tag, err := tx.Exec(ctx, `UPDATE head SET height = $1, hash = $2, log_size = $3, frontier = $4, epoch = $5
			WHERE height = $6 AND hash = $7`,
			int64(h.Height), u.Block.Hash, int64(u.Log.Size()), frontier, int64(h.Epoch), int64(h.Height)-1, h.Prev)
		if err != nil {
			return fmt.Errorf("advance head to %d: %w", h.Height, err)
		}
		if tag.RowsAffected() != 1 {
			return ErrHeadMoved
		}
		if err := insertBlock(ctx, tx, u.Block, u.StreamSeq); err != nil {
			return err
		}
		if err := insertTxs(ctx, tx, u); err != nil {
			return err
		}
		if err := insertNodes(ctx, tx, u.Nodes); err != nil {
			return err
		}
		if err := writeBatch(ctx, tx, u.Batch, h.Height); err != nil {
			return err
		}
		if err := writeReceipts(ctx, tx, u); err != nil {
			return err
		}
		for c, p := range u.Sidecars {
			if _, err := tx.Exec(ctx, `INSERT INTO personal (commitment, name, id_number, salt) VALUES ($1,$2,$3,$4)
				ON CONFLICT (commitment) DO NOTHING`, c, p.Name, p.IDNumber, p.Salt); err != nil {
				return fmt.Errorf("store sidecar: %w", err)
			}
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
}

func insertTxs(ctx context.Context, tx pgx.Tx, u *BlockUpdate) error {
	first := int64(u.Block.Header.LogSize) - int64(len(u.Txs))
	rows := make([][]any, len(u.Txs))
	for i, t := range u.Txs {
		rows[i] = []any{t.ID, int64(u.Block.Header.Height), int32(i), first + int64(i), t.Envelope.Type, t.Envelope.Submitter, []byte(u.Block.Txs[i])}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"txs"},
		[]string{"tx_id", "height", "position", "leaf_index", "type", "submitter", "envelope"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert transactions of block %d: %w", u.Block.Header.Height, err)
	}
	return nil
}

func insertNodes(ctx context.Context, tx pgx.Tx, nodes []merklelog.Node) error {
	rows := make([][]any, len(nodes))
	for i, n := range nodes {
		rows[i] = []any{int16(n.ID.Level), int64(n.ID.Index), n.Hash}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"log_nodes"}, []string{"level", "idx", "hash"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert log nodes: %w", err)
	}
	return nil
}

func writeReceipts(ctx context.Context, tx pgx.Tx, u *BlockUpdate) error {
	h := int64(u.Block.Header.Height)
	n := len(u.Txs) + len(u.Block.Rejected)
	ids, statuses, codes := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	seen := make(map[string]bool, n)
	add := func(id, status, code string) {
		if !seen[id] {
			seen[id] = true
			ids, statuses, codes = append(ids, id), append(statuses, status), append(codes, code)
		}
	}
	for _, t := range u.Txs {
		add(t.ID, "committed", "")
	}
	for _, r := range u.Block.Rejected {
		add(r.TxID, "rejected", r.Reason)
	}
	if len(ids) == 0 {
		return nil
	}
	// One statement for the block. A transaction rejected once may be
	// resubmitted after its cause was fixed and commit later: the newest
	// receipt wins.
	if _, err := tx.Exec(ctx, `INSERT INTO receipts (tx_id, status, height, code)
		SELECT id, st, $4, code FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, st, code)
		ON CONFLICT (tx_id) DO UPDATE SET status = excluded.status, height = excluded.height, code = excluded.code, reason = ''`,
		ids, statuses, codes, h); err != nil {
		return fmt.Errorf("write receipts: %w", err)
	}
	return nil
}

// writeBatch upserts every entity the block changed.
func writeBatch(ctx context.Context, tx pgx.Tx, b *ledger.Batch, height uint64) error {
	if b == nil {
		return nil
	}
	if err := upsertRecords(ctx, tx, b.Records, height); err != nil {
		return err
	}
	batch := &pgx.Batch{}
	queueDocs(batch, "reports", "id", b.Reports)
	queueDocs(batch, "repair_applications", "id", b.Repairs)
	queueDocs(batch, "objections", "id", b.Objections)
	queueDocs(batch, "policies", "id", b.Policies)
	for no, c := range b.Certificates {
		doc, _ := json.Marshal(c)
		batch.Queue(`INSERT INTO certificates (cert_no, record_id, status, doc) VALUES ($1,$2,$3,$4)
			ON CONFLICT (cert_no) DO UPDATE SET status = excluded.status, doc = excluded.doc`, no, c.RecordID, c.Status, doc)
	}
	if b.Epoch != nil {
		mj, _ := json.Marshal(b.Epoch.Members)
		batch.Queue(`INSERT INTO epochs (epoch, from_height, members) VALUES ($1,$2,$3)`, int64(b.Epoch.Epoch), int64(b.Epoch.FromHeight), mj)
	}
	for _, c := range b.Purged {
		batch.Queue(`DELETE FROM personal WHERE commitment = $1`, c)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write state of block %d: %w", height, err)
	}
	return nil
}

// upsertRecords writes the block's records in one statement.
func upsertRecords(ctx context.Context, tx pgx.Tx, recs map[string]*ledger.Record, height uint64) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	ids, codes, kinds, cats, auths, docNos, statuses := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
		make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	docs := make([]string, 0, n)
	for _, r := range recs {
		doc, err := json.Marshal(r)
		if err != nil {
			return err
		}
		ids, codes, kinds = append(ids, r.ID), append(codes, r.Subject.Code()), append(kinds, r.Subject.Kind)
		cats, auths, docNos = append(cats, r.Category), append(auths, r.Authority), append(docNos, r.Basis.DocumentNo)
		statuses, docs = append(statuses, r.Status), append(docs, string(doc))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO records (record_id, subject_code, subject_kind, category, authority, document_no, status, doc, updated_height)
		SELECT id, code, kind, cat, auth, doc_no, st, doc::json, $9
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			AS r(id, code, kind, cat, auth, doc_no, st, doc)
		ON CONFLICT (record_id) DO UPDATE SET status = excluded.status, doc = excluded.doc, updated_height = excluded.updated_height`,
		ids, codes, kinds, cats, auths, docNos, statuses, docs, int64(height)); err != nil {
		return fmt.Errorf("write records of block %d: %w", height, err)
	}
	return nil
}

func queueDocs[T any](batch *pgx.Batch, table, key string, docs map[string]*T) {
	for id, d := range docs {
		doc, _ := json.Marshal(d)
		batch.Queue(fmt.Sprintf(`INSERT INTO %s (%s, doc) VALUES ($1,$2) ON CONFLICT (%s) DO UPDATE SET doc = excluded.doc`, table, key, key), id, doc)
	}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("block time %q: %w", s, err)
	}
	return t, nil
}
