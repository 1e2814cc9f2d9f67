package importer

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// waiter follows accepted transactions until their receipts are final.
// Blocks commit roughly in submission order, so it polls the oldest
// pending transaction and, once that one is final, a window of the next
// ones, polled concurrently; while the oldest is pending it costs one
// request per pause. The window grows while every transaction in it is
// final and shrinks when few are: intake has no batch status read, so
// each row costs at least one GET, and polls of rows not final yet are
// the waste to keep small. With a fixed window of 64 and 4 pollers the
// waiter confirmed only ~230 rows/s on a loaded machine (GETs there take
// 15–20 ms), fell thousands of rows behind the replicas, and the pending
// bound then held the sender back.
type waiter struct {
	s      *session
	mu     sync.Mutex
	queue  []waitItem
	closed time.Time // when submitting ended; zero while it goes on
	wake   chan struct{}
	// lastFinal is when a receipt last became final (or waiting began).
	lastFinal time.Time
}

type waitItem struct {
	line int
	tx   string
}

const (
	waitWindowMin = 64
	waitWindowMax = 1024
	waitPollers   = 16
	waitPause     = 250 * time.Millisecond
)

func newWaiter(s *session) *waiter {
	return &waiter{s: s, wake: make(chan struct{}, 1), lastFinal: time.Now()}
}

// idle is how long no receipt has become final.
func (w *waiter) idle() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Since(w.lastFinal)
}

func (w *waiter) add(line int, tx string) {
	w.mu.Lock()
	w.queue = append(w.queue, waitItem{line, tx})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close says no more transactions will be added.
func (w *waiter) close() {
	w.mu.Lock()
	w.closed = time.Now()
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// pending returns how many transactions are not final yet.
func (w *waiter) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// run polls until every transaction is final, the context ends, or, after
// submitting ended, no receipt became final for cfg.Wait.
func (w *waiter) run(ctx context.Context) {
	window := waitWindowMin
	for ctx.Err() == nil {
		w.mu.Lock()
		n, closed := len(w.queue), w.closed
		var head waitItem
		if n > 0 {
			head = w.queue[0]
		}
		w.mu.Unlock()
		if n == 0 {
			if !closed.IsZero() {
				return
			}
			select {
			case <-w.wake:
			case <-ctx.Done():
			}
			continue
		}
		if w.poll(ctx, []waitItem{head}) > 0 {
			w.mu.Lock()
			batch := append([]waitItem(nil), w.queue[:min(window, len(w.queue))]...)
			w.mu.Unlock()
			switch got := w.poll(ctx, batch); {
			case got == len(batch):
				window = min(2*window, waitWindowMax)
			case got < len(batch)/2:
				window = max(window/2, waitWindowMin)
			}
			continue
		}
		if !closed.IsZero() && w.idle() > w.s.cfg.Wait && time.Since(closed) > w.s.cfg.Wait {
			return
		}
		select {
		case <-time.After(waitPause):
		case <-ctx.Done():
		}
	}
}

// poll reads the receipts of items, journals the final ones and drops them
// from the queue; it returns how many were final.
func (w *waiter) poll(ctx context.Context, items []waitItem) int {
	final := make(map[int]*answer)
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan waitItem)
	for range min(waitPollers, len(items)) {
		wg.Go(func() {
			for it := range next {
				a, err := w.s.client.status(ctx, it.tx)
				if err != nil || a.HTTPStatus != http.StatusOK || (a.Status != "committed" && a.Status != "rejected") {
					continue // pending, or a 404 before intake wrote the pending receipt
				}
				mu.Lock()
				final[it.line] = a
				mu.Unlock()
			}
		})
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	if len(final) == 0 {
		return 0
	}
	w.mu.Lock()
	w.lastFinal = time.Now()
	kept := w.queue[:0]
	for _, it := range w.queue {
		if _, ok := final[it.line]; !ok {
			kept = append(kept, it)
		}
	}
	w.queue = kept
	w.mu.Unlock()
	for line, a := range final {
		_ = w.s.state.Final(line, a.Status, a.Height, a.Reason) // a lost line is polled again on a rerun
		w.s.mu.Lock()
		w.s.countFinal(a.Status)
		w.s.mu.Unlock()
	}
	w.s.observe()
	return len(final)
}
