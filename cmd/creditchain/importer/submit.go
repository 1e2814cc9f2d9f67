package importer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/txn"
)

// session is the submitting part of one import run.
type session struct {
	cfg    *Config
	sg     *signer
	client *intakeClient
	state  *State
	waiter *waiter

	mu     sync.Mutex
	counts Counts
	obsMu  sync.Mutex
	// lines are the file's data rows in order; done marks those that need
	// nothing more (sent, refused, or invalid and skipped), from which the
	// journal's "upto" advances.
	lines          []int
	done           map[int]bool
	next           int
	upto           int
	refusedEarlier int // rows intake refused in earlier runs
	// deferred are rows in doubt that intake neither knows nor accepts any
	// more (see stale); written by the collector only.
	deferred []*job
}

// job is one row to send.
type job struct {
	it       *Item
	env      *txn.Envelope
	personal *txn.Personal
	tx       string
	salt     string
	fresh    bool // signed by this run just now, not rebuilt from the journal
	// settled is set on rows deferred as stale and unknown to intake once
	// every other row is decided: they may now be signed again.
	settled bool
}

// outcome is what sending a job came to.
type outcome struct {
	job      *job
	accepted bool
	final    *answer // a 409 may already carry the final status
	refused  string
	deferred bool  // stale and unknown to intake: see stale
	err      error // the import must stop (rerun to resume)
}

// plan sorts the valid rows into those already done in an earlier run
// (waited for if not final) and those to send.
func (s *session) plan(items []*Item) (toSend []*Item, earlier int) {
	for _, it := range items {
		ls := s.state.Get(it.Line)
		switch {
		case ls.Final == "committed":
			s.counts.Committed++
			s.done[it.Line] = true
			earlier++
		case ls.Final == "rejected":
			s.counts.Rejected++
			s.done[it.Line] = true
			earlier++
		case ls.Accepted:
			s.waiter.add(it.Line, ls.Tx)
			s.done[it.Line] = true
			earlier++
		case ls.Refused != "":
			s.refusedEarlier++
			s.done[it.Line] = true
		default:
			toSend = append(toSend, it)
		}
	}
	s.counts.ToSend = len(toSend)
	s.counts.Valid = len(items)
	s.counts.RefusedBefore = s.refusedEarlier
	s.counts.Before = s.counts.Decided()
	return toSend, earlier
}

// produce signs rows in batches, journals the intents of each batch with
// one fsync, and only then hands the batch to the workers: no row reaches
// intake without its intent on disk.
func (s *session) produce(ctx context.Context, rows []*Item, jobs chan<- *job) error {
	defer close(jobs)
	for start := 0; start < len(rows); start += s.cfg.Batch {
		// Wait before signing, not after: a batch held back for minutes
		// would reach intake with a stale created_at.
		if !s.throttle(ctx) {
			return nil
		}
		batch := rows[start:min(start+s.cfg.Batch, len(rows))]
		out := make([]*job, 0, len(batch))
		for _, it := range batch {
			j, err := s.prepare(it)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		if err := s.state.Sync(); err != nil {
			return err
		}
		for _, j := range out {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// throttle waits while more than MaxPending accepted rows await their
// final status: running far ahead of consensus only fills its queue, makes
// the ETA a fiction, and leaves more rows undecided if the import dies.
// It reports false when ctx ends.
func (s *session) throttle(ctx context.Context) bool {
	for s.waiter.pending() > s.cfg.MaxPending {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

// prepare signs a row afresh, or rebuilds the envelope of a row in doubt
// (journalled, never answered) exactly as it was first sent.
func (s *session) prepare(it *Item) (*job, error) {
	ls := s.state.Get(it.Line)
	if ls.Tx != "" {
		env, personal, id, err := s.sg.sign(it, ls.CreatedAt, ls.Salt)
		if err != nil {
			return nil, err
		}
		if id != ls.Tx {
			return nil, fmt.Errorf("line %d: the row no longer gives the transaction %s the state file recorded (got %s); was the file or the key changed?", it.Line, ls.Tx, id)
		}
		return &job{it: it, env: env, personal: personal, tx: id, salt: ls.Salt}, nil
	}
	salt := ""
	if it.Person != nil {
		var err error
		if salt, err = newSalt(); err != nil {
			return nil, err
		}
	}
	createdAt := txn.FormatTime(s.cfg.Now().UTC().Truncate(time.Millisecond))
	env, personal, id, err := s.sg.sign(it, createdAt, salt)
	if err != nil {
		return nil, err
	}
	if err := s.state.Intent(it.Line, id, createdAt, salt); err != nil {
		return nil, err
	}
	return &job{it: it, env: env, personal: personal, tx: id, salt: salt, fresh: true}, nil
}

// work runs one worker. The collector reads every result until the
// workers are done, so sending one never blocks for good.
func (s *session) work(ctx context.Context, jobs <-chan *job, results chan<- outcome) {
	for j := range jobs {
		results <- s.send(ctx, j)
	}
}

// collect journals each outcome, feeds the waiter and advances "upto".
// It returns the first error that must stop the import.
func (s *session) collect(results <-chan outcome, stop context.CancelFunc) error {
	var first error
	for o := range results {
		if o.err != nil {
			if first == nil && !errors.Is(o.err, context.Canceled) {
				first = o.err
				stop()
			}
			continue
		}
		if o.deferred {
			s.deferred = append(s.deferred, o.job)
			continue
		}
		line := o.job.it.Line
		var err error
		switch {
		case o.refused != "":
			err = s.state.Refused(line, o.refused)
		case o.final != nil:
			err = s.state.Final(line, o.final.Status, o.final.Height, o.final.Reason)
		default:
			err = s.state.Accepted(line)
			s.waiter.add(line, o.job.tx)
		}
		if err != nil && first == nil {
			first = err
			stop()
		}
		s.mu.Lock()
		if o.refused != "" {
			s.counts.Refused++
		} else {
			s.counts.Sent++
			if o.final != nil {
				s.countFinal(o.final.Status)
			}
		}
		s.done[line] = true
		s.mu.Unlock()
		s.advance()
		s.observe()
	}
	return first
}

func (s *session) countFinal(status string) {
	if status == "committed" {
		s.counts.Committed++
	} else {
		s.counts.Rejected++
	}
}

// advance moves "upto" over the rows that are done; flush journals it.
func (s *session) advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.next < len(s.lines) && s.done[s.lines[s.next]] {
		s.next++
	}
	if s.next > 0 {
		s.upto = s.lines[s.next-1]
	}
}

// flush journals "upto" and syncs the journal: answers reach the disk at
// least this often, besides with every batch of intents.
func (s *session) flush() error {
	s.mu.Lock()
	upto := s.upto
	s.mu.Unlock()
	if upto > 0 {
		if err := s.state.SetUpto(upto); err != nil {
			return err
		}
	}
	return s.state.Sync()
}

func (s *session) snapshot() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// observe calls cfg.Observe; the collector and the waiter both report, so
// calls are serialized here rather than left to every Observe.
func (s *session) observe() {
	if s.cfg.Observe != nil {
		s.obsMu.Lock()
		defer s.obsMu.Unlock()
		s.cfg.Observe(s.snapshot())
	}
}
