package block

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

var suites = []string{suite.Ed25519, suite.SM2}

func wantCheck(t *testing.T, err error, check string) {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a VerifyError with check %q", err, check)
	}
	if ve.Check != check {
		t.Fatalf("failed check %q (%s), want %q", ve.Check, ve.Message, check)
	}
}

func TestQuorumSizes(t *testing.T) {
	want := map[string][]int{
		membership.QuorumTwoThirds: {1, 2, 3, 3, 4, 5, 5},
		membership.QuorumMajority:  {1, 2, 2, 3, 3, 4, 4},
		membership.QuorumAll:       {1, 2, 3, 4, 5, 6, 7},
	}
	for rule, sizes := range want {
		for n := 1; n <= 7; n++ {
			c := newChain(t, suite.Ed25519, n, rule)
			need := sizes[n-1]
			g := &c.genesis.Header
			// Exactly the quorum verifies; one less fails on "quorum".
			b, _ := c.next(t, g, merklelog.NewLog(merklelog.NewHasher(c.s)), txs(0, 2), c.recorders[:need])
			if err := VerifyCosignatures(c.s, c.g.ChainID, b.Hash, b.Cosignatures, c.epoch(), rule); err != nil {
				t.Fatalf("%s, %d recorders, %d cosigners: %v", rule, n, need, err)
			}
			err := VerifyCosignatures(c.s, c.g.ChainID, b.Hash, b.Cosignatures[:need-1], c.epoch(), rule)
			wantCheck(t, err, "quorum")
		}
	}
}

func TestValidChainVerifies(t *testing.T) {
	for _, name := range suites {
		t.Run(name, func(t *testing.T) {
			c := newChain(t, name, 4, membership.QuorumTwoThirds)
			if err := VerifyGenesis(c.s, c.genesis, c.genesis.Hash); err != nil {
				t.Fatal(err)
			}
			prev := &c.genesis.Header
			log := merklelog.NewLog(merklelog.NewHasher(c.s))
			// Blocks of 0, 1, 3, 5 transactions: empty (idle) blocks too.
			for i, n := range []int{0, 1, 3, 5, 2} {
				b, _ := c.next(t, prev, log, txs(10*i, n), c.recorders[:3])
				// A round trip through JSON, as replicas receive it.
				data, err := json.Marshal(b)
				if err != nil {
					t.Fatal(err)
				}
				got, err := DecodeBlock(data)
				if err != nil {
					t.Fatal(err)
				}
				next, nodes, err := VerifyNextNodes(c.s, prev, got, c.epoch(), c.g.Quorum, log)
				if err != nil {
					t.Fatalf("block %d: %v", got.Header.Height, err)
				}
				if next.Size() != log.Size()+uint64(n) || (n > 0 && len(nodes) < n) {
					t.Fatalf("block %d: log %d -> %d, %d nodes", got.Header.Height, log.Size(), next.Size(), len(nodes))
				}
				prev, log = &got.Header, next
			}
		})
	}
}

// mutation edits a valid block and says which check must fail.
type mutation struct {
	name  string
	check string
	edit  func(t *testing.T, c *chain, b *Block)
}

// says holds part of the expected message where the check alone is vague.
var says = map[string]string{
	"non-recorder cosigner":        "not an active recorder",
	"duplicated cosigner":          "cosigned twice",
	"forged signature":             "bad signature",
	"signature over another block": "bad signature",
	"unknown key id":               "has no key",
}

func TestVerifyNextFailures(t *testing.T) {
	resealed := func(f func(b *Block)) func(t *testing.T, c *chain, b *Block) {
		return func(t *testing.T, c *chain, b *Block) { f(b); c.seal(t, b, c.recorders[:3]) }
	}
	muts := []mutation{
		{"too few cosigners", "quorum", func(t *testing.T, c *chain, b *Block) { b.Cosignatures = b.Cosignatures[:2]; b.Checkpoint = "" }},
		{"no cosigners", "quorum", func(t *testing.T, c *chain, b *Block) { b.Cosignatures = nil; b.Checkpoint = "" }},
		{"non-recorder cosigner", "cosignatures", func(t *testing.T, c *chain, b *Block) {
			b.Cosignatures = append(b.Cosignatures, c.cosign(t, b.Hash, []string{c.outsider})...)
		}},
		{"unknown institution", "cosignatures", func(t *testing.T, c *chain, b *Block) {
			cs := b.Cosignatures[0]
			cs.Institution = "91000000000000000X"
			b.Cosignatures = append(b.Cosignatures, cs)
		}},
		{"duplicated cosigner", "cosignatures", func(t *testing.T, c *chain, b *Block) {
			b.Cosignatures = append(b.Cosignatures[:2], b.Cosignatures[0])
		}},
		{"forged signature", "cosignatures", func(t *testing.T, c *chain, b *Block) {
			// Recorder 3's name and key on recorder 0's signature.
			k := c.keys[c.recorders[3]]
			forged := b.Cosignatures[0]
			forged.Institution, forged.KeyID = c.recorders[3], suite.KeyID(k.Alg, k.Public)
			b.Cosignatures = append(b.Cosignatures, forged)
		}},
		{"signature over another block", "cosignatures", func(t *testing.T, c *chain, b *Block) {
			b.Cosignatures[1] = c.cosign(t, strings.Repeat("ab", 32), []string{c.recorders[1]})[0]
		}},
		{"unknown key id", "cosignatures", func(t *testing.T, c *chain, b *Block) { b.Cosignatures[0].KeyID = "0000000000000000" }},
		{"padded signature", "cosignatures", func(t *testing.T, c *chain, b *Block) { b.Cosignatures[0].Sig += "==" }},
		{"wrong chain", "chain", resealed(func(b *Block) { b.Header.Chain = "other" })},
		{"wrong height", "height", resealed(func(b *Block) { b.Header.Height++ })},
		{"wrong prev", "prev", resealed(func(b *Block) { b.Header.Prev = strings.Repeat("0", 64) })},
		{"same time as prev", "time", resealed(func(b *Block) { b.Header.Time = "2026-11-25T08:00:00Z" })},
		{"time not UTC", "time", resealed(func(b *Block) { b.Header.Time = "2026-11-25T16:00:05+08:00" })},
		{"earlier epoch than claimed", "epoch", resealed(func(b *Block) { b.Header.Epoch = 1 })},
		{"tx count", "tx_count", resealed(func(b *Block) { b.Header.TxCount++ })},
		{"wrong tx_root", "tx_root", resealed(func(b *Block) { b.Header.TxRoot = strings.Repeat("1", 64) })},
		{"reordered txs", "tx_root", func(t *testing.T, c *chain, b *Block) { b.Txs[0], b.Txs[1] = b.Txs[1], b.Txs[0] }},
		{"changed tx", "tx_root", func(t *testing.T, c *chain, b *Block) { b.Txs[2] = json.RawMessage(`{"type":"record.exit"}`) }},
		{"tx not JSON", "tx_root", func(t *testing.T, c *chain, b *Block) { b.Txs[2] = json.RawMessage(`{"type":`) }},
		{"wrong log_size", "log_size", resealed(func(b *Block) { b.Header.LogSize++ })},
		{"wrong log_root", "log_root", resealed(func(b *Block) { b.Header.LogRoot = b.Header.TxRoot })},
		{"hash not of header", "hash", func(t *testing.T, c *chain, b *Block) { b.Header.View++ }},
		{"claimed hash", "hash", func(t *testing.T, c *chain, b *Block) { b.Hash = strings.Repeat("c", 64) }},
		{"genesis at height 1", "height", func(t *testing.T, c *chain, b *Block) { b.Genesis = c.g }},
		{"checkpoint of another size", "checkpoint", func(t *testing.T, c *chain, b *Block) {
			h := b.Header
			h.LogSize--
			b.Checkpoint = c.checkpoint(t, &h, c.recorders[:3])
		}},
		{"checkpoint below quorum", "checkpoint", func(t *testing.T, c *chain, b *Block) {
			b.Checkpoint = c.checkpoint(t, &b.Header, c.recorders[:1])
		}},
	}
	for _, name := range suites {
		c := newChain(t, name, 4, membership.QuorumTwoThirds)
		log := merklelog.NewLog(merklelog.NewHasher(c.s))
		b1, log1 := c.next(t, &c.genesis.Header, log, txs(0, 3), c.recorders[:3])
		for _, m := range muts {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				b, _ := c.next(t, &b1.Header, log1, txs(100, 4), c.recorders[:3])
				if _, err := VerifyNext(c.s, &b1.Header, b, c.epoch(), c.g.Quorum, log1); err != nil {
					t.Fatalf("unmutated block: %v", err)
				}
				m.edit(t, c, b)
				_, err := VerifyNext(c.s, &b1.Header, b, c.epoch(), c.g.Quorum, log1)
				wantCheck(t, err, m.check)
				var ve *VerifyError
				errors.As(err, &ve)
				if ve.Height != 2 {
					t.Fatalf("error at height %d, want 2", ve.Height)
				}
				if !strings.Contains(ve.Message, says[m.name]) {
					t.Fatalf("message %q does not say %q", ve.Message, says[m.name])
				}
			})
		}
	}
}

func TestVerifyNextLogAndEpochArguments(t *testing.T) {
	c := newChain(t, suite.Ed25519, 3, membership.QuorumMajority)
	log := merklelog.NewLog(merklelog.NewHasher(c.s))
	b1, log1 := c.next(t, &c.genesis.Header, log, txs(0, 3), c.recorders[:2])
	// The log passed must be the one after the previous block.
	_, err := VerifyNext(c.s, &c.genesis.Header, b1, c.epoch(), c.g.Quorum, log1)
	wantCheck(t, err, "log_size")
	// The epoch passed must be the one the header names.
	e := c.epoch()
	e.Epoch = 4
	_, err = VerifyNext(c.s, &c.genesis.Header, b1, e, c.g.Quorum, log)
	wantCheck(t, err, "epoch")
	_, err = VerifyNext(c.s, &c.genesis.Header, b1, nil, c.g.Quorum, log)
	wantCheck(t, err, "epoch")
	// A recorder suspended in the epoch no longer counts.
	e = c.epoch()
	e.Members[0].Status = membership.StatusSuspended
	_, err = VerifyNext(c.s, &c.genesis.Header, b1, e, c.g.Quorum, log)
	wantCheck(t, err, "cosignatures")
	// The original log is left as it was.
	if log.Size() != 0 {
		t.Fatal("VerifyNext changed the log it was given")
	}
}

func TestVerifyGenesis(t *testing.T) {
	c := newChain(t, suite.Ed25519, 2, membership.QuorumAll)
	for _, tc := range []struct {
		name, check string
		edit        func(b *Block)
	}{
		{"other hash anchored", "hash", func(b *Block) {}},
		{"changed parameter", "genesis", func(b *Block) { g := *b.Genesis; g.Quorum = membership.QuorumMajority; b.Genesis = &g }},
		{"no genesis", "genesis", func(b *Block) { b.Genesis = nil }},
		{"with txs", "genesis", func(b *Block) { b.Txs = txs(0, 1) }},
		{"with cosignatures", "genesis", func(b *Block) { b.Cosignatures = c.cosign(t, b.Hash, c.recorders) }},
		{"changed header time", "genesis", func(b *Block) { b.Header.Time = "2026-11-25T08:00:01Z" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := c.g.Block(c.s)
			if err != nil {
				t.Fatal(err)
			}
			anchor := b.Hash
			if tc.name == "other hash anchored" {
				anchor = strings.Repeat("0", 64)
			}
			tc.edit(b)
			wantCheck(t, VerifyGenesis(c.s, b, anchor), tc.check)
		})
	}
}

func TestGenesisBlockJSONShape(t *testing.T) {
	c := newChain(t, suite.Ed25519, 1, membership.QuorumTwoThirds)
	data, err := json.Marshal(c.genesis)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if string(m["cosignatures"]) != "[]" || string(m["txs"]) != "[]" {
		t.Fatalf("cosignatures %s, txs %s; want [] and []", m["cosignatures"], m["txs"])
	}
	for _, absent := range []string{"rejected", "checkpoint"} {
		if _, ok := m[absent]; ok {
			t.Errorf("genesis block has %q", absent)
		}
	}
	var h map[string]any
	if err := json.Unmarshal(m["header"], &h); err != nil {
		t.Fatal(err)
	}
	empty := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256("")
	if h["height"] != 0.0 || h["prev"] != strings.Repeat("0", 64) || h["tx_root"] != empty ||
		h["log_root"] != empty || h["log_size"] != 0.0 || h["proposer"] != "" || h["params"] == nil {
		t.Fatalf("genesis header %v", h)
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"chain", "epoch", "height", "log_root", "log_size", "params", "prev", "proposer", "time", "tx_count", "tx_root", "view"}
	if !slices.Equal(keys, want) {
		t.Fatalf("header members %v, want %v", keys, want)
	}
	// The genesis hash commits to every parameter.
	g2 := *c.g
	g2.Limits.MaxTxs++
	b2, err := g2.Block(c.s)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Hash == c.genesis.Hash {
		t.Fatal("changing a limit left the genesis hash unchanged")
	}
	// Decoding the JSON gives back the same hash.
	back, err := DecodeBlock(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyGenesis(c.s, back, c.genesis.Hash); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeStrict(t *testing.T) {
	c := newChain(t, suite.Ed25519, 1, membership.QuorumTwoThirds)
	data, _ := json.Marshal(c.genesis.Header)
	if _, err := DecodeHeader(data); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		strings.Replace(string(data), `"chain"`, `"extra":1,"chain"`, 1),
		string(data) + "{}",
		strings.Replace(string(data), `"height":0`, `"height":9007199254740992`, 1),
		strings.Replace(string(data), `"tx_count":0`, `"tx_count":-1`, 1),
	} {
		if _, err := DecodeHeader([]byte(bad)); err == nil {
			t.Errorf("DecodeHeader(%s) accepted", bad)
		}
	}
}
