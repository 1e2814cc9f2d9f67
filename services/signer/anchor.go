package signer

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/creditchain/creditchain/pkg/txn"
)

// anchorBatch bounds how many unanchored certificates one pass handles.
const anchorBatch = 200

type pending struct {
	CertNo, RecordID, ExitTx, CertHash, IssueTx string
	Due                                         bool
}

// anchor submits certificate.issue for each stored certificate the ledger
// does not hold yet, and marks those it now holds. A submission that has
// not committed after ResubmitAfter is submitted again (a fresh envelope);
// should both commit, the ledger refuses the second as a duplicate number.
func (s *Signer) anchor(ctx context.Context) error {
	rows, err := s.store.Pool.Query(ctx, `SELECT cert_no, record_id, exit_tx, cert_hash, COALESCE(issue_tx, ''),
		COALESCE(submitted_at < now() - make_interval(secs => $1), true)
		FROM cert_documents WHERE anchored_height IS NULL ORDER BY created_at LIMIT $2`,
		s.cfg.ResubmitAfter.Seconds(), anchorBatch)
	if err != nil {
		return fmt.Errorf("read unanchored certificates: %w", err)
	}
	var todo []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.CertNo, &p.RecordID, &p.ExitTx, &p.CertHash, &p.IssueTx, &p.Due); err != nil {
			rows.Close()
			return fmt.Errorf("read unanchored certificate: %w", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	metricPending.Set(float64(len(todo)))
	var firstErr error
	for _, p := range todo {
		if err := s.anchorOne(ctx, p); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.cfg.Logger.Warn("certificate.issue", "cert_no", p.CertNo, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (s *Signer) anchorOne(ctx context.Context, p pending) error {
	c, err := s.store.Certificate(ctx, p.CertNo)
	if err != nil {
		return err
	}
	if c != nil {
		if c.CertHash != p.CertHash || c.ExitTx != p.ExitTx {
			// Only possible if cert_documents lost a row and the exit was
			// signed again (SM2 signatures are randomized): the ledger's
			// hash is authoritative and this document cannot match it.
			s.cfg.Logger.Error("the ledger anchors another certificate under this number", "cert_no", p.CertNo,
				"ledger_hash", c.CertHash, "stored_hash", p.CertHash)
		}
		var h int64
		if err := s.store.Pool.QueryRow(ctx, `SELECT height FROM txs WHERE tx_id = $1`, c.TxID).Scan(&h); err != nil {
			return fmt.Errorf("height of %s: %w", c.TxID, err)
		}
		if _, err := s.store.Pool.Exec(ctx, `UPDATE cert_documents SET anchored_height = $2 WHERE cert_no = $1`, p.CertNo, h); err != nil {
			return fmt.Errorf("mark %s anchored: %w", p.CertNo, err)
		}
		metricAnchored.Inc()
		s.mu.Lock()
		s.status.Anchored++
		s.mu.Unlock()
		return nil
	}
	if !p.Due {
		return nil
	}
	if p.IssueTx != "" {
		var status, code string
		err := s.store.Pool.QueryRow(ctx, `SELECT status, code FROM receipts WHERE tx_id = $1`, p.IssueTx).Scan(&status, &code)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			s.cfg.Logger.Warn("certificate.issue not decided in time, submitting again", "cert_no", p.CertNo, "tx_id", p.IssueTx)
		case err != nil:
			return fmt.Errorf("receipt of %s: %w", p.IssueTx, err)
		case status == "rejected":
			s.cfg.Logger.Error("certificate.issue rejected, submitting again", "cert_no", p.CertNo, "tx_id", p.IssueTx, "reason", code)
		}
	}
	id, err := s.intake.Submit(ctx, txn.TypeCertificateIssue, txn.CertificateIssue{
		CertNo: p.CertNo, RecordID: p.RecordID, ExitTx: p.ExitTx, CertHash: p.CertHash})
	if err != nil {
		return err
	}
	if _, err := s.store.Pool.Exec(ctx, `UPDATE cert_documents SET issue_tx = $2, submitted_at = now() WHERE cert_no = $1`, p.CertNo, id); err != nil {
		return fmt.Errorf("record submission of %s: %w", p.CertNo, err)
	}
	metricSubmitted.Inc()
	s.mu.Lock()
	s.status.Submitted++
	s.mu.Unlock()
	return nil
}
