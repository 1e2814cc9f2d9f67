package chain

import (
	"context"
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/policy"
)

// GenesisBatch is the state the genesis installs: its policies, each active
// at the version it carries.
func GenesisBatch(g *block.Genesis) (*ledger.Batch, error) {
	var pols []*policy.Policy
	for i, raw := range g.Policies {
		p, err := policy.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("genesis policy %d: %w", i, err)
		}
		if _, err := policy.Compile(p); err != nil {
			return nil, fmt.Errorf("genesis policy %s: %w", p.ID, err)
		}
		pols = append(pols, p)
	}
	b := ledger.NewBatch(nil)
	b.Policies = ledger.GenesisPolicies(pols)
	return b, nil
}

// OpenReplica migrates the database at url, opens it and writes the genesis
// if it has none. Running it again on the same database is a no-op.
func OpenReplica(ctx context.Context, url string, g *block.Genesis) (*pgstore.Store, error) {
	if err := pgstore.Migrate(ctx, url); err != nil {
		return nil, err
	}
	s, err := pgstore.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	init, err := GenesisBatch(g)
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Init(ctx, g, init); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
