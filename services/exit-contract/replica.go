package exitcontract

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// snapshot reads the replica as of one committed block: the head, the
// block's transactions and the records then agree, although the replicator
// keeps applying blocks meanwhile.
var snapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// head is the replica's newest block.
type head struct {
	Height uint64
	Time   time.Time
}

// readHead returns the head's height and exact block time. The time comes
// from the header as signed (nanoseconds), not from the timestamptz column,
// which PostgreSQL rounds to microseconds.
func readHead(ctx context.Context, q pgx.Tx) (head, error) {
	var height int64
	var raw string
	err := q.QueryRow(ctx, `SELECT h.height, b.header FROM head h JOIN blocks b ON b.height = h.height`).Scan(&height, &raw)
	if err != nil {
		return head{}, fmt.Errorf("read replica head: %w", err)
	}
	var hdr struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal([]byte(raw), &hdr); err != nil {
		return head{}, fmt.Errorf("decode head header %d: %w", height, err)
	}
	t, err := txn.ParseTime(hdr.Time)
	if err != nil {
		return head{}, fmt.Errorf("head %d: %w", height, err)
	}
	return head{Height: uint64(height), Time: t}, nil
}

// recordTxTypes are the committed transactions that can change what a
// record's policy sees or its lifecycle status. Objections do not: only
// the revocation that may follow one does.
var recordTxTypes = []string{
	txn.TypeRecordCreate, txn.TypeRecordAttest, txn.TypeRepairApply, txn.TypeRepairDecide,
	txn.TypeRecordRevoke, txn.TypeRecordExit, txn.TypeRecordPurge,
}

// touchedRecords returns the ids of the records that the blocks in
// (from, to] changed, from the txs rows: the record id of a record.create
// is its tx id, every other type names it in payload.record_id. Rows that
// name no record (impossible for a verified block) are counted in skipped
// rather than stopping the service for every other record.
func touchedRecords(ctx context.Context, q pgx.Tx, from, to uint64) (ids []string, skipped int, err error) {
	rows, err := q.Query(ctx, `SELECT tx_id, type, envelope FROM txs
		WHERE height > $1 AND height <= $2 AND type = ANY($3) ORDER BY height, position`,
		int64(from), int64(to), recordTxTypes)
	if err != nil {
		return nil, 0, fmt.Errorf("read transactions of blocks %d..%d: %w", from+1, to, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, typ string
		var env []byte
		if err := rows.Scan(&id, &typ, &env); err != nil {
			return nil, 0, fmt.Errorf("read transaction: %w", err)
		}
		rec := id
		if typ != txn.TypeRecordCreate {
			var e struct {
				Payload struct {
					RecordID string `json:"record_id"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(env, &e); err != nil || e.Payload.RecordID == "" {
				skipped++
				continue
			}
			rec = e.Payload.RecordID
		}
		if !seen[rec] {
			seen[rec] = true
			ids = append(ids, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read transactions of blocks %d..%d: %w", from+1, to, err)
	}
	return ids, skipped, nil
}

// loadRecords reads the records with the given ids; absent ones are skipped.
func loadRecords(ctx context.Context, q pgx.Tx, ids []string) ([]*ledger.Record, error) {
	var out []*ledger.Record
	const chunk = 1000
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		rows, err := q.Query(ctx, `SELECT doc FROM records WHERE record_id = ANY($1)`, ids[:n])
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		err = eachRecord(rows, func(r *ledger.Record) error {
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// scheduledStatuses are the statuses whose records still need a
// transaction: an exit, or a purge after exit or revocation.
var scheduledStatuses = []string{ledger.StatusActive, ledger.StatusExited, ledger.StatusRevoked}

// countScheduled sizes the schedule before the initial load.
func countScheduled(ctx context.Context, q pgx.Tx) (int, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT count(*) FROM records WHERE status = ANY($1)`, scheduledStatuses).Scan(&n); err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	return int(n), nil
}

// scanRecords streams every record that still needs a transaction, one
// row at a time, so that the initial load holds one record in memory at
// once, not the table.
func scanRecords(ctx context.Context, q pgx.Tx, fn func(*ledger.Record) error) error {
	rows, err := q.Query(ctx, `SELECT doc FROM records WHERE status = ANY($1)`, scheduledStatuses)
	if err != nil {
		return fmt.Errorf("scan records: %w", err)
	}
	return eachRecord(rows, fn)
}

func eachRecord(rows pgx.Rows, fn func(*ledger.Record) error) error {
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		var r ledger.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	return nil
}
