// Package query is the open query API (DESIGN 3, 9.4, 9.6, 9.7), served
// read-only from one institution's replica: subject look-ups by exact code,
// record documents with their inclusion proofs, blocks, checkpoints, proofs
// and the trust bundle. Everything it shows about the ledger comes with what
// a client needs to check it; everything it shows about a person is masked.
//
// The only rows it writes are its own (pgstore migration 00002): API key
// usage counts and the access log of person look-ups.
package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/services/query/portal"
)

// Limits are the access limits of DESIGN 9.6 "Default limits".
type Limits struct {
	// AnonPerMinute and AnonBurst bound look-ups per client address
	// without an API key (a token bucket).
	AnonPerMinute, AnonBurst int
	// KeyPerMinute and KeyPerDay are what `creditchain apikey create` gives
	// a new key unless told otherwise; each key keeps its own values in the
	// database. A key's burst is a tenth of its per-minute rate.
	KeyPerMinute int
	KeyPerDay    int64
}

// DefaultLimits are the contract's defaults.
func DefaultLimits() Limits {
	return Limits{AnonPerMinute: 30, AnonBurst: 10, KeyPerMinute: 600, KeyPerDay: 100_000}
}

// Config is what a query server needs.
type Config struct {
	// DatabaseURL is the institution's replica.
	DatabaseURL string
	// Genesis is the chain's genesis; it must equal the replica's when the
	// replica has one already.
	Genesis *block.Genesis
	Limits  Limits
	Clock   func() time.Time
	Logger  *slog.Logger
	// IssuerURL, when set, is the base URL of the issuer's (the credit
	// center's) query service. Certificate documents live in the issuer's
	// replica only; other institutions' services fetch a JWS from there
	// and serve it only if it hashes to the cert_hash on their own ledger.
	// A function because the issuer's service may start after this one.
	IssuerURL func() string
}

// Server is a running query API over one replica.
type Server struct {
	store  *pgstore.Store
	limits Limits
	clock  func() time.Time
	log    *slog.Logger
	anon   *limiter
	keys   *limiter
	// legacy are the pilot USCCs accepted despite their check character:
	// the chain's (genesis) and the process default.
	legacy ids.LegacyList
	// issuerURL and http fetch certificate documents from the issuer.
	issuerURL func() string
	http      *http.Client
	// portal renders the portal's pages.
	portal *portal.Site
}

// Open migrates (for the query service's own tables) and opens the replica.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if err := migrate(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	st, err := pgstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if err := adoptGenesis(st, cfg.Genesis); err != nil {
		st.Close()
		return nil, err
	}
	return New(st, cfg), nil
}

// migrate retries because a replicator may be migrating the same database
// at this moment, and goose does not lock across processes.
func migrate(ctx context.Context, url string) error {
	var err error
	for range 5 {
		if err = pgstore.Migrate(ctx, url); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("query: %w", err)
}

// adoptGenesis checks the configured genesis against the replica's, or
// stands in for it while the replicator has not written it yet.
func adoptGenesis(st *pgstore.Store, g *block.Genesis) error {
	switch {
	case g == nil && st.Genesis == nil:
		return errors.New("query: the replica has no genesis yet and none was configured")
	case g == nil:
		return nil
	}
	su, err := suite.ByName(g.CryptoSuite)
	if err != nil {
		return fmt.Errorf("query: genesis suite: %w", err)
	}
	if st.Genesis != nil {
		want, err := g.Block(su)
		if err != nil {
			return fmt.Errorf("query: configured genesis: %w", err)
		}
		have, err := st.Genesis.Block(st.Suite)
		if err != nil {
			return fmt.Errorf("query: replica genesis: %w", err)
		}
		if have.Hash != want.Hash {
			return fmt.Errorf("query: replica holds genesis %s, configured %s", have.Hash, want.Hash)
		}
		return nil
	}
	st.Genesis, st.Suite, st.Hasher = g, su, merklelog.NewHasher(su)
	return nil
}

// New serves an open store.
func New(st *pgstore.Store, cfg Config) *Server {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	legacy := ids.DefaultLegacyList().Codes()
	if st.Genesis != nil {
		legacy = append(legacy, st.Genesis.LegacyUSCC...)
	}
	return &Server{store: st, limits: cfg.Limits, clock: cfg.Clock, log: cfg.Logger,
		anon: newLimiter(), keys: newLimiter(), legacy: ids.NewLegacyList(legacy),
		issuerURL: cfg.IssuerURL, http: &http.Client{Timeout: 10 * time.Second}, portal: portal.MustNew()}
}

// Store is the replica the server reads.
func (s *Server) Store() *pgstore.Store { return s.store }

// Close releases the database pool.
func (s *Server) Close() { s.store.Close() }
