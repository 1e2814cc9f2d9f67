package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// The load generator runs on the machine it measures. Signing a
// transaction costs it about 50 µs of CPU, taken from the network under
// test, which a real deployment's submitters pay on machines of their own:
// so the bench signs most of its transactions before the load window.

// presignedFor is how long a pre-signed transaction stays usable: intake
// refuses a created_at more than 5 minutes away from its clock.
const presignedFor = 4 * time.Minute

// presignGuessTPS sizes the pool of a --rate max run, whose rate is not
// known in advance: twice what this machine was measured to commit.
const presignGuessTPS = 2000

// presignCount is how many transactions to sign ahead for a run of d at
// perSecond (0: as fast as intake takes them): what the run will offer
// within presignedFor of signing.
func presignCount(d time.Duration, perSecond int) int {
	rate := perSecond
	if rate <= 0 {
		rate = presignGuessTPS
	}
	return int(min(d, presignedFor*3/4).Seconds() * float64(rate))
}

// presign signs n transactions, numbered base+1 onwards, on every core,
// saying how far it is every few seconds.
func (b *benchRun) presign(ctx context.Context, base, n int, log io.Writer) []benchTx {
	if n <= 0 {
		return nil
	}
	began := time.Now()
	fmt.Fprintf(log, "bench: signing %d transactions ahead of the load window\n", n)
	pool := make([]benchTx, n)
	var next, done int
	var mu sync.Mutex
	var wg sync.WaitGroup
	lastReport := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				tx, err := b.prepare(base + i + 1)
				if err != nil {
					// Left empty: the worker that reaches it signs afresh.
					continue
				}
				pool[i] = tx
				mu.Lock()
				done++
				if time.Since(lastReport) > 5*time.Second {
					lastReport = time.Now()
					fmt.Fprintf(log, "bench: signed %d of %d\n", done, n)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(log, "bench: signed %d transactions in %s\n", done, time.Since(began).Round(100*time.Millisecond))
	return pool
}
