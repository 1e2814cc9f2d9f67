package signer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Document is a stored certificate: a cert_documents row.
type Document struct {
	CertNo         string
	RecordID       string
	ExitTx         string
	JWS            string
	CertHash       string
	PDF            []byte // nil when it could not be rendered
	IssueTx        string
	SubmittedAt    time.Time
	AnchoredHeight uint64 // 0 until certificate.issue committed
	CreatedAt      time.Time
}

// Querier is what the document functions read with: a pool or a pgx.Tx.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const documentColumns = `cert_no, record_id, exit_tx, jws, cert_hash, pdf, COALESCE(issue_tx, ''),
	COALESCE(submitted_at, 'epoch'), COALESCE(anchored_height, 0), created_at`

func scanDocument(row pgx.Row) (*Document, error) {
	var d Document
	var anchored int64
	err := row.Scan(&d.CertNo, &d.RecordID, &d.ExitTx, &d.JWS, &d.CertHash, &d.PDF, &d.IssueTx, &d.SubmittedAt, &anchored, &d.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read certificate document: %w", err)
	}
	d.AnchoredHeight = uint64(anchored)
	return &d, nil
}

// GetDocument returns the certificate numbered certNo, or nil.
func GetDocument(ctx context.Context, q Querier, certNo string) (*Document, error) {
	return scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+` FROM cert_documents WHERE cert_no = $1`, certNo))
}

// DocumentByRecord returns the certificate of record id, or nil.
func DocumentByRecord(ctx context.Context, q Querier, recordID string) (*Document, error) {
	return scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+` FROM cert_documents WHERE record_id = $1`, recordID))
}

func documentByExit(ctx context.Context, q Querier, exitTx string) (*Document, error) {
	return scanDocument(q.QueryRow(ctx, `SELECT `+documentColumns+` FROM cert_documents WHERE exit_tx = $1`, exitTx))
}

// insertDocument stores d unless a certificate of the same exit (or with
// the same number) is already stored, and returns the stored one: the
// first certificate of an exit is the only one.
func insertDocument(ctx context.Context, q Querier, d *Document) (*Document, error) {
	if _, err := q.Exec(ctx, `INSERT INTO cert_documents (cert_no, record_id, exit_tx, jws, cert_hash, pdf)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`, d.CertNo, d.RecordID, d.ExitTx, d.JWS, d.CertHash, d.PDF); err != nil {
		return nil, fmt.Errorf("store certificate %s: %w", d.CertNo, err)
	}
	stored, err := documentByExit(ctx, q, d.ExitTx)
	if err != nil {
		return nil, err
	}
	if stored == nil {
		return nil, fmt.Errorf("certificate %s: another exit holds its number or record", d.CertNo)
	}
	return stored, nil
}
