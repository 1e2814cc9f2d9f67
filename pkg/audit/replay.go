package audit

import (
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// replay is the chain as rebuilt from the genesis: the state, the log and
// the last sound header. It never reads a projection.
type replay struct {
	genesis     *block.Genesis
	genesisHash string
	suite       suite.Suite
	exec        *ledger.Executor
	state       *ledger.MemoryState
	// recordHeights is each record's last changing height: the
	// updated_height column of the records projection.
	recordHeights map[string]uint64

	height    uint64 // last sound block
	header    block.Header
	hash      string
	log       *merklelog.Log
	streamSeq uint64 // as stored for the last sound block (a hint only)
}

// newReplay is the state the genesis installs, at height 0.
func newReplay(g *block.Genesis) (*replay, error) {
	s, err := g.Suite()
	if err != nil {
		return nil, err
	}
	gb, err := g.Block(s)
	if err != nil {
		return nil, fmt.Errorf("genesis block: %w", err)
	}
	init, err := chain.GenesisBatch(g)
	if err != nil {
		return nil, err
	}
	state := ledger.NewMemoryState(*g.Epoch(), g.Quorum)
	state.Apply(init)
	return &replay{
		genesis: g, genesisHash: gb.Hash, suite: s, exec: &ledger.Executor{Suite: s},
		state: state, recordHeights: map[string]uint64{},
		header: gb.Header, hash: gb.Hash, log: merklelog.NewLog(merklelog.NewHasher(s)),
	}, nil
}

// advance makes a verified block's changes the replayed state.
func (r *replay) advance(h block.Header, hash string, batch *ledger.Batch, log *merklelog.Log, streamSeq uint64) {
	r.state.Apply(batch)
	for id := range batch.Records {
		r.recordHeights[id] = h.Height
	}
	r.height, r.header, r.hash, r.log, r.streamSeq = h.Height, h, hash, log, streamSeq
}
