package harness

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// shared is the one Env of a test binary.
var shared struct {
	mu     sync.Mutex
	active bool // RunTests is in charge of closing env
	env    *Env
	err    error
	took   time.Duration
}

// RunTests runs the tests of a package and then closes the shared Env, if
// any test asked for it, whatever the tests' outcome. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(harness.RunTests(m)) }
//
// Packages that never call Shared start no server.
func RunTests(m *testing.M) int {
	sweepStale()
	shared.mu.Lock()
	shared.active = true
	shared.mu.Unlock()

	// An interrupted test binary would otherwise leave its data behind (its
	// servers die with it regardless).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "harness: %v: stopping the shared servers\n", sig)
		closeShared()
		os.Exit(1)
	}()

	code := m.Run()
	signal.Stop(sigs)
	close(sigs)
	if err := closeShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func closeShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.env == nil {
		return nil
	}
	err := shared.env.Close()
	shared.env = nil
	if err != nil {
		return fmt.Errorf("harness: closing the shared servers: %w", err)
	}
	return nil
}

// Shared returns the test binary's servers, starting them on first use.
// Tests share them, so each test makes its own databases (NewTestDatabase),
// streams and keys under names no other test uses. A failed start fails
// every test that asks, with the same error.
func Shared(t testing.TB) *Env {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.active {
		t.Fatal("harness.Shared: the package's TestMain must run the tests with harness.RunTests, which stops the servers at exit")
	}
	if shared.env == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		shared.env, shared.err = Start(ctx, Options{})
		shared.took = time.Since(start)
		if shared.err == nil {
			t.Logf("harness: servers started in %v (postgres %s, nats %s, etcd %v)",
				shared.took.Round(time.Millisecond), shared.env.PG.URL(""), shared.env.NATS.URL(), shared.env.Etcd.Endpoints())
		}
	}
	if shared.err != nil {
		t.Fatalf("harness: starting the shared servers: %v", shared.err)
	}
	return shared.env
}
