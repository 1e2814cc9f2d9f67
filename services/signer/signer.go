// Package signer is the certificate signer (DESIGN 3, 7): one per network,
// run by the issuing institution (the credit center) on its own replica.
// For every committed record.exit it builds the exit's W3C Verifiable
// Credential (pkg/cert), signs it with the issuer key, checks it verifies
// against the chain's trust bundle, renders the Chinese PDF, stores both
// in cert_documents, and anchors the JWS's hash on the ledger with
// certificate.issue.
//
// Idempotent across restarts: the document is stored before anything is
// submitted and reused afterwards; its number derives from the exit alone
// and the ledger refuses a second certificate.issue of a number, so one
// exit never gets two certificates.
package signer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Config is what a signer needs.
type Config struct {
	// DatabaseURL is the issuing institution's replica, kept by its
	// replicator; the signer only adds cert_documents rows to it.
	DatabaseURL string
	// IssuerKey signs certificates; it must be the chain's issuer key
	// (genesis issuer, published in the trust bundle).
	IssuerKey *suite.KeyFile
	// SubmitKey signs certificate.issue, as a member with the issuer role.
	// Default IssuerKey (the dev network's credit center uses one key).
	SubmitKey *suite.KeyFile
	// IntakeURL is where certificate.issue is submitted.
	IntakeURL string
	// PortalURL is the portal whose /verify page the PDF's QR code opens.
	// It is asked at each issuance because a dev portal may start later.
	PortalURL func() string
	// FontPath is the CJK font for PDFs; "" searches (FindFont). Without
	// one the signer still issues certificates, without PDFs.
	FontPath string
	// Poll is how often the replica is read. Default 1s.
	Poll time.Duration
	// ResubmitAfter is how long a submitted certificate.issue may stay
	// uncommitted before it is submitted again. Default 30s.
	ResubmitAfter time.Duration
	// Clock stamps created_at of submissions. Default time.Now.
	Clock      func() time.Time
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Status is what the signer reports.
type Status struct {
	Ready     bool   `json:"ready"`
	Height    uint64 `json:"height"` // exits up to here have a certificate
	Issued    uint64 `json:"issued"`
	Submitted uint64 `json:"submitted"`
	Anchored  uint64 `json:"anchored"`
	Failed    uint64 `json:"failed"` // exits no certificate could be built for
	LastError string `json:"last_error,omitempty"`
}

// Signer is a running signer.
type Signer struct {
	cfg    Config
	store  *pgstore.Store
	intake *Intake
	font   []byte
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	status Status
	kick   chan struct{}
}

// Start opens the replica and starts watching it.
func Start(ctx context.Context, cfg Config) (*Signer, error) {
	if cfg.IssuerKey == nil || cfg.DatabaseURL == "" || cfg.IntakeURL == "" {
		return nil, errors.New("signer: the issuer key, the replica's database and the intake URL are required")
	}
	if cfg.SubmitKey == nil {
		cfg.SubmitKey = cfg.IssuerKey
	}
	if cfg.PortalURL == nil {
		cfg.PortalURL = func() string { return "http://127.0.0.1:8080" }
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.ResubmitAfter <= 0 {
		cfg.ResubmitAfter = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("service", "signer")
	s := &Signer{cfg: cfg, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	if path, err := FindFont(cfg.FontPath); err != nil {
		cfg.Logger.Warn("certificates will have no PDF", "err", err)
	} else if s.font, err = LoadFont(path); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if err := pgstore.Migrate(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	st, err := pgstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	s.store = st
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.loop(lctx)
	return s, nil
}

// Close stops the signer.
func (s *Signer) Close() {
	s.cancel()
	<-s.done
	s.store.Close()
}

// Status reports progress.
func (s *Signer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Kick makes the signer look at the replica now rather than at the next poll.
func (s *Signer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Document returns the stored certificate numbered certNo, or nil.
func (s *Signer) Document(ctx context.Context, certNo string) (*Document, error) {
	// ready may swap the store (once, when the replica had no genesis at
	// Start); the loop itself reads it from its own goroutine only.
	s.mu.Lock()
	st := s.store
	s.mu.Unlock()
	return GetDocument(ctx, st.Pool, certNo)
}

func (s *Signer) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		err := s.Sync(ctx)
		s.mu.Lock()
		if err != nil && ctx.Err() == nil {
			s.status.LastError = err.Error()
			s.cfg.Logger.Warn("signer pass failed", "err", err)
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Sync makes one pass: certificates for the exits committed since the last
// pass, then certificate.issue for every certificate not yet anchored.
func (s *Signer) Sync(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := s.issueNew(ctx); err != nil {
		return err
	}
	return s.anchor(ctx)
}
