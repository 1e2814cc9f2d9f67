// Package exitcontract is the exit-contract service (DESIGN 3, 5): one
// instance per recorder, with that recorder's key. It watches the
// institution's replica, keeps every record that still needs a transaction
// in a schedule ordered by the earliest block time its policy could allow
// it, and submits record.exit when the bound policy holds at the replica's
// newest block time, and record.purge once purge_after has passed since the
// exit or revocation.
//
// It never scans all records after start-up: each new block re-evaluates
// only the records that block's transactions touched and the schedule
// entries that fell due. Consensus re-evaluates every exit, so a wrong or
// duplicate submission is rejected, never applied; several recorders
// submitting the same exit is what keeps any one of them from suppressing it.
package exitcontract

import (
	"context"
	"errors"
	"fmt"
	"github.com/creditchain/creditchain/pkg/intakeclient"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// Config is what an exit-contract needs.
type Config struct {
	// Key is the recorder's key; its institution signs every submission.
	Key *suite.KeyFile
	// DatabaseURL is the institution's replica (written by its replicator).
	DatabaseURL string
	// IntakeURL is where transactions are submitted.
	IntakeURL string
	// Clock stamps created_at; it must agree with intake's clock. It is
	// never used to decide eligibility. Default time.Now.
	Clock func() time.Time
	// PollInterval is how often the replica head is read. Default 200ms.
	PollInterval time.Duration
	// ResubmitAfter is the least time between two submissions for one
	// record (measured on the local monotonic clock). Default 30s.
	ResubmitAfter time.Duration
	// Grace is how long a record must have been seen valid for its exit or
	// purge before this service submits it, so that an authority that
	// submits its own exit right after its attestation (with its own
	// reason) is not raced by the automatic one. Default 2s.
	Grace time.Duration
	// FallbackDelay is added to Grace for records of other authorities.
	// Normally only the authority's own exit-contract submits, instead of
	// every recorder's (n-1 rejected duplicates per exit); the others
	// submit only when the transaction has not committed by then, so that
	// no single node can suppress it. Default 5s.
	FallbackDelay time.Duration
	// Workers is how many submissions may be in flight. Default 4.
	Workers int
	// MaxBlocksPerStep bounds the blocks read in one step while catching up.
	// Default 1000.
	MaxBlocksPerStep uint64
	HTTPClient       *http.Client
	Logger           *slog.Logger
}

func (c *Config) defaults() error {
	if c.Key == nil {
		return errors.New("exit-contract: no key")
	}
	if err := c.Key.Check(); err != nil {
		return fmt.Errorf("exit-contract: key: %w", err)
	}
	if c.DatabaseURL == "" || c.IntakeURL == "" {
		return errors.New("exit-contract: the replica database URL and the intake URL are required")
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	if c.ResubmitAfter <= 0 {
		c.ResubmitAfter = 30 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 2 * time.Second
	}
	if c.FallbackDelay <= 0 {
		c.FallbackDelay = 5 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.MaxBlocksPerStep == 0 {
		c.MaxBlocksPerStep = 1000
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("service", "exit-contract", "institution", c.Key.Institution)
	return nil
}

// Status is what the service reports.
type Status struct {
	Institution string    `json:"institution"`
	Ready       bool      `json:"ready"` // the initial load is done
	Height      uint64    `json:"height"`
	BlockTime   time.Time `json:"block_time"`
	// Scheduled is the schedule's size: records waiting for a due time.
	Scheduled int `json:"scheduled"`
	// Pending counts records whose exit or purge is valid and not yet
	// committed.
	Pending int       `json:"pending"`
	NextDue time.Time `json:"next_due,omitzero"`
	// Evaluations counts records evaluated; Loaded those of the initial load.
	Evaluations      uint64 `json:"evaluations"`
	Loaded           uint64 `json:"loaded"`
	EvaluationErrors uint64 `json:"evaluation_errors"`
	ExitsSubmitted   uint64 `json:"exits_submitted"`
	PurgesSubmitted  uint64 `json:"purges_submitted"`
	SubmitErrors     uint64 `json:"submit_errors"`
	// Dropped counts submissions not queued because every worker was busy;
	// the record stays due and is tried again at the next block.
	Dropped   uint64 `json:"dropped"`
	LastError string `json:"last_error,omitempty"`
}

// queueSize bounds the submissions waiting for a worker; beyond it a
// record stays due and is offered again at the next block.
const queueSize = 1024

// job is one submission for a worker.
type job struct {
	action  Action
	typ     string
	payload any
	record  string
}

// pending is a record whose exit or purge is valid at the newest block
// time and not yet committed. Times are local and monotonic: they pace
// submissions, they never decide validity.
type pending struct {
	action Action
	wait   time.Duration // see Service.wait
	since  time.Time     // first seen valid
	sent   time.Time     // last queued for submission; zero before
}

// wait is how long this service lets a valid action stand before
// submitting it (Grace, plus FallbackDelay for other authorities' records).
func (s *Service) wait(authority string) time.Duration {
	if authority == s.cfg.Key.Institution {
		return s.cfg.Grace
	}
	return s.cfg.Grace + s.cfg.FallbackDelay
}

// quiet reports whether p needs nothing before now: still within its wait,
// or submitted less than ResubmitAfter ago.
func (s *Service) quiet(p *pending, now time.Time) bool {
	if p.sent.IsZero() {
		return now.Sub(p.since) < p.wait
	}
	return now.Sub(p.sent) < s.cfg.ResubmitAfter
}

// Service is a running exit-contract.
type Service struct {
	cfg    Config
	store  *pgstore.Store
	pols   *policyCache
	sub    *intakeclient.Client
	jobs   chan job
	cancel context.CancelFunc
	done   sync.WaitGroup

	// Owned by the run goroutine.
	sched   *Schedule
	pending map[RecordKey]*pending // records whose action is valid now
	height  uint64

	mu     sync.Mutex
	status Status

	evals, loaded, evalErrs, exits, purges, subErrs, dropped atomic.Uint64
}

// Start opens the replica and starts watching it. A replica without its
// genesis yet (its replicator still starting) is waited for.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	store, err := pgstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("exit-contract %s: %w", cfg.Key.Institution, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, store: store, cancel: cancel, jobs: make(chan job, queueSize),
		pending: map[RecordKey]*pending{}}
	s.pols = newPolicyCache(func(ctx context.Context, id string) (*ledger.PolicyState, error) {
		return s.store.Policy(ctx, id)
	})
	s.status.Institution = cfg.Key.Institution
	for range cfg.Workers {
		s.done.Go(func() { s.work(rctx) })
	}
	s.done.Go(func() { s.run(rctx) })
	return s, nil
}

// Close stops the service and waits for it; submissions in flight end with
// their HTTP request.
func (s *Service) Close() {
	s.cancel()
	s.done.Wait()
	s.store.Close()
}

// Status returns the service's counters.
func (s *Service) Status() Status {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	st.Evaluations, st.Loaded, st.EvaluationErrors = s.evals.Load(), s.loaded.Load(), s.evalErrs.Load()
	st.ExitsSubmitted, st.PurgesSubmitted = s.exits.Load(), s.purges.Load()
	st.SubmitErrors, st.Dropped = s.subErrs.Load(), s.dropped.Load()
	return st
}

func (s *Service) setError(err error) {
	s.cfg.Logger.Warn("exit-contract step failed; retrying", "err", err)
	s.mu.Lock()
	s.status.LastError = err.Error()
	s.mu.Unlock()
}

func (s *Service) run(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for s.sched == nil {
		if err := s.load(ctx); err != nil && ctx.Err() == nil {
			s.setError(err)
		}
		if s.sched != nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.step(ctx); err != nil && ctx.Err() == nil {
			s.setError(err)
		}
	}
}

// load builds the schedule from the replica: every record that still needs
// a transaction is evaluated once, at the head's block time.
func (s *Service) load(ctx context.Context) error {
	if s.store.Genesis == nil {
		// The replicator has not written the genesis yet; reopen to read it.
		store, err := pgstore.Open(ctx, s.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		if store.Genesis == nil {
			store.Close()
			return pgstore.ErrNoGenesis
		}
		s.store.Close()
		s.store = store
	}
	if s.sub == nil {
		su, err := suite.ByName(s.store.Genesis.CryptoSuite)
		if err != nil {
			return err
		}
		if s.cfg.Key.Alg != su.Name() {
			return fmt.Errorf("exit-contract: the key is %s but the chain's suite is %s", s.cfg.Key.Alg, su.Name())
		}
		s.sub = &intakeclient.Client{URL: s.cfg.IntakeURL, HTTP: s.cfg.HTTPClient, Chain: s.store.Genesis.ChainID,
			Suite: su, Key: s.cfg.Key, Clock: s.cfg.Clock}
	}
	start := time.Now()
	s.loaded.Store(0) // a failed attempt starts over
	var sched *Schedule
	var h head
	err := pgx.BeginTxFunc(ctx, s.store.Pool, snapshot, func(tx pgx.Tx) error {
		var err error
		if h, err = readHead(ctx, tx); err != nil {
			return err
		}
		n, err := countScheduled(ctx, tx)
		if err != nil {
			return err
		}
		sched = NewSchedule(n)
		return scanRecords(ctx, tx, func(r *ledger.Record) error {
			s.loaded.Add(1)
			return s.plan(ctx, sched, r, h.Time)
		})
	})
	if err != nil {
		return fmt.Errorf("initial load: %w", err)
	}
	s.sched, s.height = sched, h.Height
	s.publish(h)
	s.cfg.Logger.Info("exit-contract schedule loaded", "height", h.Height, "records", s.loaded.Load(),
		"scheduled", sched.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// step handles the blocks after the last one handled: the records their
// transactions touched, and the schedule entries due by the newest block
// time, are evaluated again.
func (s *Service) step(ctx context.Context) error {
	var popped []Entry
	err := pgx.BeginTxFunc(ctx, s.store.Pool, snapshot, func(tx pgx.Tx) error {
		h, err := readHead(ctx, tx)
		if err != nil {
			return err
		}
		if h.Height <= s.height {
			return nil // block time only moves with blocks
		}
		to := min(h.Height, s.height+s.cfg.MaxBlocksPerStep)
		ids, skipped, err := touchedRecords(ctx, tx, s.height, to)
		if err != nil {
			return err
		}
		if skipped > 0 {
			s.cfg.Logger.Error("transactions naming no record were skipped", "blocks", fmt.Sprintf("%d..%d", s.height+1, to), "count", skipped)
		}
		touched := make(map[RecordKey]bool, len(ids))
		for _, id := range ids {
			if k, err := ParseRecordKey(id); err == nil {
				touched[k] = true
			}
		}
		popped = s.sched.PopDue(h.Time)
		now := time.Now()
		for _, e := range popped {
			if touched[e.Key] {
				continue
			}
			// Valid, unchanged since, and waiting (for its grace or for the
			// outcome of its submission): no need to read it again yet.
			if p, ok := s.pending[e.Key]; ok && p.action == e.Action && s.quiet(p, now) {
				s.sched.Set(e.Key, e.DueTime(), e.Action)
				continue
			}
			ids = append(ids, e.Key.String())
		}
		recs, err := loadRecords(ctx, tx, ids)
		if err != nil {
			return err
		}
		// A popped record that is not on the replica any more simply
		// leaves the schedule; records are never deleted, so that does not
		// happen on a sound replica.
		for _, r := range recs {
			if err := s.plan(ctx, s.sched, r, h.Time); err != nil {
				return err
			}
		}
		s.height = to
		s.publish(head{Height: to, Time: h.Time})
		popped = nil
		return nil
	})
	// A step that failed after taking entries off the schedule puts back
	// those not already re-scheduled, so that nothing is lost (popped is
	// nil after a successful step).
	for _, e := range popped {
		if _, ok := s.sched.Get(e.Key); !ok {
			s.sched.Set(e.Key, e.DueTime(), e.Action)
		}
	}
	return err
}

// plan evaluates r at block time at, schedules it and queues a submission
// when one is valid now. It returns only failures to read the replica,
// after which the caller retries its whole step.
func (s *Service) plan(ctx context.Context, sched *Schedule, r *ledger.Record, at time.Time) error {
	k, err := ParseRecordKey(r.ID)
	if err != nil {
		s.evalErrs.Add(1)
		s.cfg.Logger.Error("record with an unusable id", "err", err)
		return nil
	}
	s.evals.Add(1)
	p, err := s.pols.planFor(ctx, r, at)
	var evalErr *EvaluationError
	switch {
	case errors.As(err, &evalErr):
		// The same error happens on every node: the record cannot exit
		// until an event changes it, which brings it back here.
		s.evalErrs.Add(1)
		s.cfg.Logger.Warn("evaluation failed", "record", r.ID, "err", err)
		sched.Remove(k)
		delete(s.pending, k)
		return nil
	case err != nil:
		return err
	}
	if p.Action == 0 {
		sched.Remove(k)
	} else {
		sched.Set(k, p.Due, p.Action)
	}
	if !p.Now {
		delete(s.pending, k)
		return nil
	}
	now := time.Now()
	pd := s.pending[k]
	if pd == nil || pd.action != p.Action {
		pd = &pending{action: p.Action, wait: s.wait(r.Authority), since: now}
		s.pending[k] = pd
	}
	if s.quiet(pd, now) {
		return nil
	}
	j := job{action: p.Action, record: r.ID}
	switch p.Action {
	case ActionExit:
		j.typ, j.payload = txn.TypeRecordExit, &txn.RecordExit{RecordID: r.ID, Policy: r.Policy.ID, Version: r.Policy.Version, Reason: p.Reason}
	case ActionPurge:
		j.typ, j.payload = txn.TypeRecordPurge, &txn.RecordPurge{RecordID: r.ID}
	}
	select {
	case s.jobs <- j:
		pd.sent = now
	default:
		s.dropped.Add(1)
	}
	return nil
}

func (s *Service) publish(h head) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Ready, s.status.Height, s.status.BlockTime = true, h.Height, h.Time
	s.status.Scheduled, s.status.Pending = s.sched.Len(), len(s.pending)
	s.status.NextDue = time.Time{}
	if e, ok := s.sched.Peek(); ok {
		s.status.NextDue = e.DueTime()
	}
	s.status.LastError = ""
}

func (s *Service) work(ctx context.Context) {
	for {
		var j job
		select {
		case <-ctx.Done():
			return
		case j = <-s.jobs:
		}
		id, err := s.sub.Submit(ctx, j.typ, j.payload)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.subErrs.Add(1)
			s.cfg.Logger.Warn("submission failed", "type", j.typ, "record", j.record, "err", err)
			continue
		}
		if j.action == ActionExit {
			s.exits.Add(1)
		} else {
			s.purges.Add(1)
		}
		s.cfg.Logger.Info("submitted", "type", j.typ, "record", j.record, "tx", id)
	}
}
