package block

import (
	"encoding/json"
	"testing"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

func FuzzDecodeHeader(f *testing.F) {
	c := newChain(f, suite.Ed25519, 1, membership.QuorumTwoThirds)
	data, _ := json.Marshal(c.genesis.Header)
	f.Add(data)
	f.Add([]byte(`{"height":1e400}`))
	f.Add([]byte(`{"time":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHeader(data)
		if err != nil {
			return
		}
		if _, err := h.Hash(c.s); err != nil {
			t.Fatalf("decoded header does not hash: %v", err)
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	c := newChain(f, suite.Ed25519, 2, membership.QuorumTwoThirds)
	g, _ := json.Marshal(c.genesis)
	f.Add(g)
	b, _ := c.next(f, &c.genesis.Header, merklelog.NewLog(merklelog.NewHasher(c.s)), txs(0, 2), c.recorders)
	data, _ := json.Marshal(b)
	f.Add(data)
	f.Add([]byte(`{"txs":[1,"x",null],"cosignatures":null}`))
	log := merklelog.NewLog(merklelog.NewHasher(c.s))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBlock(data)
		if err != nil {
			return
		}
		// Whatever decodes must verify or fail cleanly.
		_, _ = VerifyNext(c.s, &c.genesis.Header, b, c.epoch(), c.g.Quorum, log)
		_ = VerifyGenesis(c.s, b, c.genesis.Hash)
		if _, err := json.Marshal(b); err != nil {
			t.Fatalf("decoded block does not marshal: %v", err)
		}
	})
}
