// Package consensus is the consensus-ledger service (DESIGN 3): one instance
// per recorder institution. The instance elected leader in etcd cuts blocks
// from TXS and proposes them; every instance re-executes proposals against its
// own state, persists its vote and cosigns; with a quorum the leader appends
// the block to LEDGER, fenced by an expected-last-sequence check.
package consensus

import (
	"log/slog"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Config is what one consensus-ledger instance needs.
type Config struct {
	Genesis       *block.Genesis
	Key           *suite.KeyFile // the recorder institution's key
	DatabaseURL   string         // this instance's own PostgreSQL (state and votes)
	NATSURL       string
	EtcdEndpoints []string

	// Clock is the source of block time; tests and `creditchain dev` may
	// move it forward. Nil means time.Now.
	Clock func() time.Time
	// MaxTxs bounds a block; BlockInterval is how long the leader waits for
	// more transactions after the first; IdleInterval is how often it makes an
	// empty block so that time-based exits fire.
	MaxTxs        int
	MaxBytes      int
	BlockInterval time.Duration
	IdleInterval  time.Duration
	// VoteTimeout bounds how long the leader waits for cosignatures.
	VoteTimeout time.Duration
	// MaxSkew is how far a proposal's time may be from this node's clock.
	MaxSkew time.Duration
	Logger  *slog.Logger

	// AdversaryCandidates is for adversary tests only and nil in
	// production: when set, this node as leader proposes what it returns
	// instead of the TXS candidates it consumed (the TXS range it claims
	// stays the same), playing a leader that omits transactions, which
	// honest recorders must refuse (coverage.go).
	AdversaryCandidates func(candidates [][]byte) [][]byte
	// AdversaryDropReceipts is for tests only and nil in production: the
	// receipts this node as leader writes through a height it returns true
	// for are lost, as if NATS dropped them, or the node died between
	// appending the block and writing them (when it keeps returning true).
	AdversaryDropReceipts func(height uint64) bool
}

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.MaxTxs == 0 {
		c.MaxTxs = c.Genesis.Limits.MaxTxs
	}
	if c.MaxTxs == 0 {
		c.MaxTxs = 2000
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = c.Genesis.Limits.MaxBytes
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 4 << 20
	}
	if c.BlockInterval == 0 {
		c.BlockInterval, _ = time.ParseDuration(c.Genesis.Limits.BlockInterval)
	}
	if c.BlockInterval == 0 {
		c.BlockInterval = 100 * time.Millisecond
	}
	if c.IdleInterval == 0 {
		c.IdleInterval, _ = time.ParseDuration(c.Genesis.Limits.IdleInterval)
	}
	if c.IdleInterval == 0 {
		c.IdleInterval = 5 * time.Second
	}
	if c.VoteTimeout == 0 {
		c.VoteTimeout = 10 * time.Second
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
