package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// rebuild cuts the replica back to the replayed chain rp (everything from
// height from on goes), resets the head to rp's block with its Merkle
// frontier and rewrites every projection from rp's state, all in one
// PostgreSQL transaction: a crash leaves either the damaged replica or the
// cut one, never a mix. from is 0 only when the genesis row itself is bad.
func rebuild(ctx context.Context, store *pgstore.Store, rp *replay, from uint64, reason string) error {
	return pgx.BeginFunc(ctx, store.Pool, func(tx pgx.Tx) error {
		size := int64(rp.log.Size())
		steps := []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM txs WHERE height >= $1`, []any{int64(from)}},
			{`DELETE FROM blocks WHERE height >= $1`, []any{int64(from)}},
			// A node stays only if the leaf that completed it is in the log.
			{`DELETE FROM log_nodes WHERE level < 0 OR level > 62 OR idx < 0 OR ((idx + 1) << level) > $1`, []any{size}},
			{`DELETE FROM receipts WHERE height >= $1`, []any{int64(from)}},
			{`TRUNCATE records, reports, repair_applications, objections, certificates, policies, epochs`, nil},
			{`DELETE FROM head`, nil},
		}
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("repair: %w", err)
			}
		}
		if from == 0 {
			if err := insertGenesis(ctx, tx, rp); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO head (height, hash, log_size, frontier, epoch) VALUES ($1,$2,$3,$4,$5)`,
			int64(rp.height), rp.hash, size, rp.log.Frontier(), int64(rp.header.Epoch)); err != nil {
			return fmt.Errorf("repair: reset head: %w", err)
		}
		if err := writeState(ctx, tx, rp); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alerts (kind, height, detail) VALUES ('replica_repaired', $1, $2)`,
			int64(from), reason); err != nil {
			return fmt.Errorf("repair: record alert: %w", err)
		}
		return nil
	})
}

func insertGenesis(ctx context.Context, tx pgx.Tx, rp *replay) error {
	hj, err := json.Marshal(rp.header)
	if err != nil {
		return err
	}
	t, err := txn.ParseTime(rp.header.Time)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO blocks (height, hash, prev, time, epoch, log_size, header, cosignatures, checkpoint, stream_seq)
		VALUES (0, $1, $2, $3, 0, 0, $4, '[]', '', 0)`, rp.hash, rp.header.Prev, t, string(hj)); err != nil {
		return fmt.Errorf("repair: rewrite the genesis block: %w", err)
	}
	return nil
}

// writeState copies the replayed state into the emptied projections, in the
// shape pgstore writes them.
func writeState(ctx context.Context, tx pgx.Tx, rp *replay) error {
	st := rp.state
	recs := sortedKeys(st.Records)
	if err := copyRows(ctx, tx, "records",
		[]string{"record_id", "subject_code", "subject_kind", "category", "authority", "document_no", "status", "doc", "updated_height"},
		len(recs), func(i int) ([]any, error) {
			r := st.Records[recs[i]]
			doc, err := json.Marshal(r)
			return []any{r.ID, r.Subject.Code(), r.Subject.Kind, r.Category, r.Authority, r.Basis.DocumentNo, r.Status, doc,
				int64(rp.recordHeights[r.ID])}, err
		}); err != nil {
		return err
	}
	if err := copyDocs(ctx, tx, "reports", st.Reports); err != nil {
		return err
	}
	if err := copyDocs(ctx, tx, "repair_applications", st.Repairs); err != nil {
		return err
	}
	if err := copyDocs(ctx, tx, "objections", st.Objections); err != nil {
		return err
	}
	if err := copyDocs(ctx, tx, "policies", st.Policies); err != nil {
		return err
	}
	certs := sortedKeys(st.Certificates)
	if err := copyRows(ctx, tx, "certificates", []string{"cert_no", "record_id", "status", "doc"},
		len(certs), func(i int) ([]any, error) {
			c := st.Certificates[certs[i]]
			doc, err := json.Marshal(c)
			return []any{certs[i], c.RecordID, c.Status, doc}, err
		}); err != nil {
		return err
	}
	return copyRows(ctx, tx, "epochs", []string{"epoch", "from_height", "members"},
		len(st.Epochs), func(i int) ([]any, error) {
			e := st.Epochs[i]
			mj, err := json.Marshal(e.Members)
			return []any{int64(e.Epoch), int64(e.FromHeight), mj}, err
		})
}

func copyDocs[T any](ctx context.Context, tx pgx.Tx, table string, docs map[string]*T) error {
	keys := sortedKeys(docs)
	return copyRows(ctx, tx, table, []string{"id", "doc"}, len(keys), func(i int) ([]any, error) {
		doc, err := json.Marshal(docs[keys[i]])
		return []any{keys[i], doc}, err
	})
}

// copyRows streams n rows made by row into table with COPY.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, n int, row func(int) ([]any, error)) error {
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		return row(i - 1)
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
		return fmt.Errorf("repair: rewrite %s: %w", table, err)
	}
	return nil
}
