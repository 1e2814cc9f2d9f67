package main

import (
	"context"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/harness"
)

// startTestNetwork starts a dev network in-process on a throwaway harness,
// both stopped when the test ends, and returns it with its directory.
func startTestNetwork(ctx context.Context, t *testing.T) (*devnet.Network, string) {
	t.Helper()
	return startTestNetworkIn(ctx, t, t.TempDir())
}

// startTestNetworkIn is startTestNetwork in dir, which may hold a genesis
// and its keys already.
func startTestNetworkIn(ctx context.Context, t *testing.T, dir string) (*devnet.Network, string) {
	t.Helper()
	env, err := harness.Start(ctx, harness.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close() })
	n, err := devnet.Start(ctx, devnet.Options{Dir: dir, Env: env, IntakePort: -1, PortalPort: -1,
		BlockInterval: 50 * time.Millisecond, IdleInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n, dir
}
