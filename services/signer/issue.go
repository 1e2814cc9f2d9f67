package signer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
)

// scanBlocks bounds how many blocks one pass looks through for exits.
const scanBlocks = 1000

// ready waits for the replica's genesis (its replicator writes it) and
// checks the keys against it.
func (s *Signer) ready(ctx context.Context) error {
	if s.intake != nil {
		return nil
	}
	if s.store.Genesis == nil {
		st, err := pgstore.Open(ctx, s.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		if st.Genesis == nil {
			st.Close()
			return pgstore.ErrNoGenesis
		}
		s.mu.Lock()
		old := s.store
		s.store = st
		s.mu.Unlock()
		old.Close()
	}
	g := s.store.Genesis
	if k := s.cfg.IssuerKey; k.KeyID != g.Issuer.KeyID || k.Institution != g.Issuer.ID {
		return fmt.Errorf("signer: key %s of %s is not the chain's issuer key %s of %s", k.KeyID, k.Institution, g.Issuer.KeyID, g.Issuer.ID)
	}
	s.intake = &Intake{URL: s.cfg.IntakeURL, HTTP: s.cfg.HTTPClient, Chain: g.ChainID, Suite: s.store.Suite,
		Key: s.cfg.SubmitKey, Clock: s.cfg.Clock}
	s.mu.Lock()
	s.status.Ready = true
	s.mu.Unlock()
	return nil
}

// exitRow is a committed record.exit as the replica stores it.
type exitRow struct {
	TxID      string
	Height    uint64
	LeafIndex uint64
	Envelope  []byte // JCS bytes
}

// issueNew makes a certificate for every exit committed after the cursor,
// then moves the cursor. An exit whose certificate cannot be built (its
// facts are missing, e.g. a person's sidecar already purged) is logged
// and counted, not retried forever; a database error ends the pass, to be
// retried.
func (s *Signer) issueNew(ctx context.Context) error {
	head, err := s.store.Head(ctx)
	if err != nil {
		return err
	}
	var cursor int64
	err = s.store.Pool.QueryRow(ctx, `SELECT height FROM cert_signer_state`).Scan(&cursor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read signer cursor: %w", err)
	}
	upto := min(head.Height, uint64(cursor)+scanBlocks)
	if upto <= uint64(cursor) {
		return nil
	}
	exits, err := s.exitsIn(ctx, uint64(cursor), upto)
	if err != nil {
		return err
	}
	var trust *block.TrustBundle
	for _, e := range exits {
		if trust == nil {
			if trust, err = s.trustBundle(ctx); err != nil {
				return err
			}
		}
		if err := s.certify(ctx, trust, e); err != nil {
			var bad *buildError
			if !errors.As(err, &bad) {
				return err
			}
			s.cfg.Logger.Error("no certificate for exit", "exit_tx", e.TxID, "height", e.Height, "err", err)
			metricFailed.Inc()
			s.mu.Lock()
			s.status.Failed++
			s.mu.Unlock()
		}
	}
	if _, err := s.store.Pool.Exec(ctx, `INSERT INTO cert_signer_state (height) VALUES ($1)
		ON CONFLICT (singleton) DO UPDATE SET height = excluded.height`, int64(upto)); err != nil {
		return fmt.Errorf("advance signer cursor: %w", err)
	}
	s.mu.Lock()
	s.status.Height = upto
	s.mu.Unlock()
	return nil
}

func (s *Signer) exitsIn(ctx context.Context, from, to uint64) ([]exitRow, error) {
	rows, err := s.store.Pool.Query(ctx, `SELECT tx_id, height, leaf_index, envelope FROM txs
		WHERE type = $1 AND height > $2 AND height <= $3 ORDER BY height, position`, txn.TypeRecordExit, int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read exits of blocks %d..%d: %w", from+1, to, err)
	}
	defer rows.Close()
	var out []exitRow
	for rows.Next() {
		var e exitRow
		var h, leaf int64
		if err := rows.Scan(&e.TxID, &h, &leaf, &e.Envelope); err != nil {
			return nil, fmt.Errorf("read exit: %w", err)
		}
		e.Height, e.LeafIndex = uint64(h), uint64(leaf)
		out = append(out, e)
	}
	return out, rows.Err()
}

// trustBundle is the chain's trust bundle as the replica knows it.
func (s *Signer) trustBundle(ctx context.Context) (*block.TrustBundle, error) {
	epochs, err := s.store.Epochs(ctx)
	if err != nil {
		return nil, err
	}
	return block.NewTrustBundle(s.store.Genesis, s.store.Suite, epochs)
}

// buildError is an exit whose certificate cannot be built from the replica.
type buildError struct{ err error }

func (e *buildError) Error() string { return e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

// certify stores the certificate of exit e, unless one is stored already.
func (s *Signer) certify(ctx context.Context, trust *block.TrustBundle, e exitRow) error {
	if d, err := documentByExit(ctx, s.store.Pool, e.TxID); err != nil || d != nil {
		return err
	}
	in, err := s.gather(ctx, e)
	if err != nil {
		return err
	}
	cred, err := cert.Build(s.store.Suite, in)
	if err != nil {
		return &buildError{err}
	}
	k := s.cfg.IssuerKey
	c, err := cert.Sign(s.store.Suite, cred, k.PrivateKey(), k.KeyID)
	if err != nil {
		return &buildError{err}
	}
	// The signer checks its own work as any verifier will: a certificate
	// that does not verify is never stored or anchored.
	if _, err := cert.Verify(c.JWS, trust); err != nil {
		return &buildError{fmt.Errorf("the new certificate does not verify: %w", err)}
	}
	d := &Document{CertNo: c.CertNo, RecordID: in.Record.ID, ExitTx: e.TxID, JWS: c.JWS, CertHash: c.Hash}
	if s.font != nil {
		pdf, err := RenderPDF(PDFInput{Cert: c, PortalURL: s.cfg.PortalURL(), Names: memberNames(trust), Font: s.font})
		if err != nil {
			s.cfg.Logger.Error("certificate PDF", "cert_no", c.CertNo, "err", err)
		}
		d.PDF = pdf
	}
	stored, err := insertDocument(ctx, s.store.Pool, d)
	if err != nil {
		return err
	}
	if stored.CertHash == d.CertHash {
		metricIssued.Inc()
		s.mu.Lock()
		s.status.Issued++
		s.mu.Unlock()
		s.cfg.Logger.Info("certificate issued", "cert_no", c.CertNo, "record_id", in.Record.ID, "exit_tx", e.TxID)
	}
	return nil
}

// gather reads what cert.Build needs about exit e from the replica.
func (s *Signer) gather(ctx context.Context, e exitRow) (*cert.Exit, error) {
	var env struct {
		Payload txn.RecordExit `json:"payload"`
	}
	if err := json.Unmarshal(e.Envelope, &env); err != nil {
		return nil, &buildError{fmt.Errorf("exit %s: %w", e.TxID, err)}
	}
	rec, err := s.store.Record(ctx, env.Payload.RecordID)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, &buildError{fmt.Errorf("exit %s: record %s not in the replica", e.TxID, env.Payload.RecordID)}
	}
	b, err := s.store.Block(ctx, e.Height)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("block %d not in the replica", e.Height)
	}
	path, err := merklelog.ProveInclusion(ctx, s.store, s.store.Hasher, e.LeafIndex, b.Header.LogSize)
	if err != nil {
		return nil, err
	}
	root, err := merklelog.DecodeHash(s.store.Hasher, b.Header.LogRoot)
	if err != nil {
		return nil, &buildError{err}
	}
	in := &cert.Exit{Record: rec, Tx: e.Envelope, Block: b, Issuer: s.store.Genesis.Issuer.ID,
		Inclusion: merklelog.NewInclusionProof(e.TxID, e.LeafIndex, b.Header.LogSize, root, path)}
	if rec.Subject.Kind == txn.SubjectPerson {
		var p txn.Personal
		err := s.store.Pool.QueryRow(ctx, `SELECT name, id_number, salt FROM personal WHERE commitment = $1`,
			rec.Subject.Commitment).Scan(&p.Name, &p.IDNumber, &p.Salt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Build explains that the sidecar is missing.
		case err != nil:
			return nil, fmt.Errorf("read sidecar: %w", err)
		default:
			in.Personal = &p
		}
	}
	return in, nil
}

// memberNames maps every institution the trust bundle lists to its name.
func memberNames(tb *block.TrustBundle) map[string]string {
	out := map[string]string{}
	for _, e := range tb.Epochs {
		for _, m := range e.Members {
			out[m.ID] = m.Name
		}
	}
	return out
}
