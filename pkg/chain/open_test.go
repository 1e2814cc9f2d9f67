package chain

import (
	"context"
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

func TestMain(m *testing.M) { os.Exit(harness.RunTests(m)) }

// TestInitConcurrently: services that share a database (an institution's
// replicator and its recorder's consensus state) start at once; each must
// find the genesis written, whichever wrote it.
func TestInitConcurrently(t *testing.T) {
	env := harness.Shared(t)
	s, _ := suite.ByName(suite.Ed25519)
	member := func(id string, roles ...string) (membership.Member, *suite.KeyFile) {
		k, err := s.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		kf := suite.NewKeyFile(id, k)
		return membership.Member{ID: id, Name: id, Kind: "other", Roles: roles,
			Keys: []membership.Key{{KeyID: kf.KeyID, Alg: kf.Alg, Public: kf.Public}}}, kf
	}
	g := &block.Genesis{ChainID: "open-test", CryptoSuite: s.Name(), Quorum: membership.QuorumTwoThirds,
		Time:   txn.FormatTime(time.Now().UTC().Truncate(time.Second)),
		Limits: block.Limits{MaxTxs: 100, MaxBytes: 1 << 20, BlockInterval: "100ms", IdleInterval: "5s"}}
	reg, rk := member("regulator", membership.RoleRegulator, membership.RoleIssuer)
	g.Members = append(g.Members, reg)
	g.Issuer = block.Issuer{ID: reg.ID, KeyID: rk.KeyID, Alg: rk.Alg, Public: rk.Public}
	for _, id := range []string{"r1", "r2", "r3"} {
		m, _ := member(id, membership.RoleRecorder)
		g.Members = append(g.Members, m)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	init, err := GenesisBatch(g)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		url := harness.NewTestDatabase(t, env.PG, "")
		if err := pgstore.Migrate(context.Background(), url); err != nil {
			t.Fatal(err)
		}
		stores := make([]*pgstore.Store, 4)
		for i := range stores {
			if stores[i], err = pgstore.Open(context.Background(), url); err != nil {
				t.Fatal(err)
			}
			defer stores[i].Close()
		}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, st := range stores {
			wg.Go(func() { errs[i] = st.Init(context.Background(), g, init) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, store %d: %v", round, i, err)
			}
		}
	}
}
