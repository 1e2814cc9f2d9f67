package importer

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// submit runs the waiter and the sending pipeline over rows; then, if
// rows were deferred (see session.stale), settles them and sends them
// again; then waits for the last final statuses.
func (s *session) submit(ctx context.Context, rows []*Item, prog *progress) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	waited := make(chan struct{})
	go func() {
		s.waiter.run(ctx)
		close(waited)
	}()
	err := s.pipeline(ctx, stop, prog, func(jobs chan<- *job) error { return s.produce(ctx, rows, jobs) })
	if err == nil && len(s.deferred) > 0 && ctx.Err() == nil {
		deferred := s.deferred
		s.deferred = nil
		prog.note("import: %d rows journalled by an earlier run are unknown to intake and too old to resend as they were; "+
			"waiting until every other row is decided before signing them again", len(deferred))
		if err = s.settle(ctx, prog); err == nil {
			err = s.pipeline(ctx, stop, prog, func(jobs chan<- *job) error {
				defer close(jobs)
				for _, j := range deferred {
					j.settled = true
					select {
					case jobs <- j:
					case <-ctx.Done():
						return nil
					}
				}
				return nil
			})
		}
	}
	s.waiter.close()
	s.tickUntil(prog, waited)
	return err
}

// pipeline runs a producer, the workers and the collector until the
// producer's rows are all answered; it returns the first error that stops
// the import (after calling stop).
func (s *session) pipeline(ctx context.Context, stop context.CancelFunc, prog *progress, produce func(chan<- *job) error) error {
	// Two batches of room: the workers go on sending one batch while the
	// next is signed and its intents fsynced.
	jobs := make(chan *job, 2*s.cfg.Batch)
	results := make(chan outcome, s.cfg.Workers)
	produced := make(chan error, 1)
	go func() {
		err := produce(jobs)
		if err != nil {
			stop()
		}
		produced <- err
	}()
	var workers sync.WaitGroup
	for range s.cfg.Workers {
		workers.Go(func() { s.work(ctx, jobs, results) })
	}
	go func() {
		workers.Wait()
		close(results)
	}()
	var err error
	collected := make(chan struct{})
	go func() {
		err = s.collect(results, stop)
		close(collected)
	}()
	s.tickUntil(prog, collected)
	if perr := <-produced; err == nil {
		err = perr
	}
	return err
}

// tickUntil shows progress and flushes the journal until done is closed.
func (s *session) tickUntil(prog *progress, done <-chan struct{}) {
	tick := time.NewTicker(ttyEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			prog.show(s.snapshot(), false)
			_ = s.flush() // a failing disk shows at the next batch's Sync
		}
	}
}

// settle waits until every accepted row is decided, so that consensus has
// worked through whatever was published before this run's rows.
func (s *session) settle(ctx context.Context, prog *progress) error {
	tick := time.NewTicker(ttyEvery)
	defer tick.Stop()
	for s.waiter.pending() > 0 {
		if idle := s.waiter.idle(); idle > s.cfg.Wait {
			return fmt.Errorf("%d accepted rows still undecided after %s without progress; "+
				"rows in doubt are not signed again before they are: rerun later", s.waiter.pending(), idle.Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			prog.show(s.snapshot(), false)
			_ = s.flush()
		}
	}
	return nil
}
