package block

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

func TestGenesisValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		says string
		edit func(g *Genesis)
	}{
		{"unknown suite", "unknown crypto suite", func(g *Genesis) { g.CryptoSuite = "rsa" }},
		{"unknown quorum", "quorum", func(g *Genesis) { g.Quorum = "most" }},
		{"empty quorum", "quorum", func(g *Genesis) { g.Quorum = "" }},
		{"time not UTC", "UTC", func(g *Genesis) { g.Time = "2026-11-25T16:00:00+08:00" }},
		{"bad time", "time", func(g *Genesis) { g.Time = "yesterday Z" }},
		{"chain id with space", "chain id", func(g *Genesis) { g.ChainID = "credit chain" }},
		{"empty chain id", "chain id", func(g *Genesis) { g.ChainID = "" }},
		{"no recorder", "no active recorder", func(g *Genesis) {
			for i := range g.Members {
				g.Members[i].Roles = []string{membership.RoleSubmitter}
			}
		}},
		{"duplicate member", "listed twice", func(g *Genesis) { g.Members = append(g.Members, g.Members[0]) }},
		{"key id mismatch", "key id", func(g *Genesis) { g.Members[0].Keys[0].KeyID = "0123456789abcdef" }},
		{"key of another suite", "chain suite", func(g *Genesis) { g.Members[0].Keys[0].Alg = suite.SM2 }},
		{"no keys", "no keys", func(g *Genesis) { g.Members[0].Keys = nil }},
		{"unknown role", "unknown role", func(g *Genesis) { g.Members[0].Roles = []string{"king"} }},
		{"unknown kind", "unknown kind", func(g *Genesis) { g.Members[0].Kind = "army" }},
		{"suspended at genesis", "status", func(g *Genesis) { g.Members[0].Status = membership.StatusSuspended }},
		{"member id with +", "institution id", func(g *Genesis) { g.Members[0].ID = "a+b" }},
		{"bad interval", "block_interval", func(g *Genesis) { g.Limits.BlockInterval = "5" }},
		{"zero max txs", "max_txs", func(g *Genesis) { g.Limits.MaxTxs = 0 }},
		{"issuer key id", "issuer key id", func(g *Genesis) { g.Issuer.KeyID = "x" }},
		{"invalid policy", "policy 0", func(g *Genesis) { g.Policies[0] = json.RawMessage(`{`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, suite.Ed25519, 2, membership.QuorumTwoThirds)
			tc.edit(c.g)
			err := c.g.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Validate() = %v, want an error saying %q", err, tc.says)
			}
		})
	}
}

func TestGenesisHashIndependentOfEncoding(t *testing.T) {
	// Nil and empty policies, and a decoded copy, hash alike.
	c := newChain(t, suite.SM2, 2, membership.QuorumMajority)
	c.g.Policies = nil
	h1, err := c.g.ParamsHash(c.s)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(c.g)
	if !strings.Contains(string(data), `"policies":[]`) {
		t.Fatalf("nil policies marshal as %s", data)
	}
	g, err := DecodeGenesis(data)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := g.ParamsHash(c.s)
	if h1 != h2 {
		t.Fatalf("params hash %s before, %s after a JSON round trip", h1, h2)
	}
	if strings.Contains(string(data), "legacy_uscc") {
		t.Fatal("empty legacy_uscc is not absent")
	}
}

func TestTrustBundle(t *testing.T) {
	for _, name := range suites {
		t.Run(name, func(t *testing.T) {
			c := newChain(t, name, 4, membership.QuorumTwoThirds)
			e1 := *c.epoch()
			e1.Epoch, e1.FromHeight = 1, 10
			e1.Members = append([]membership.Member(nil), e1.Members...)
			e1.Members[3].Status = membership.StatusRemoved
			tb, err := NewTrustBundle(c.g, c.s, []membership.Epoch{*c.epoch(), e1})
			if err != nil {
				t.Fatal(err)
			}
			if tb.GenesisHash != c.genesis.Hash || tb.ChainID != c.g.ChainID || tb.Quorum != c.g.Quorum || tb.CryptoSuite != name {
				t.Fatalf("bundle %+v", tb)
			}
			data, err := json.Marshal(tb)
			if err != nil {
				t.Fatal(err)
			}
			var back TrustBundle
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			// Recorders carry a note key; the outsider does not; removed
			// members are gone from their epoch.
			if n := len(back.Epochs[1].Members); n != 4 {
				t.Fatalf("epoch 1 lists %d members, want 4", n)
			}
			for _, m := range back.Epochs[0].Members {
				isRec := m.ID != c.outsider
				if isRec != (m.NoteKey != "") {
					t.Fatalf("member %s: note_key %q", m.ID, m.NoteKey)
				}
				if m.Categories == nil || m.Roles == nil {
					t.Fatalf("member %s: null roles or categories", m.ID)
				}
			}
			if !strings.Contains(string(data), `"categories":[]`) {
				t.Fatalf("non-recorder categories not []: %s", data)
			}
			// A block of epoch 0 verifies with the bundle's epoch 0, and its
			// checkpoint with the bundle's note keys.
			b, _ := c.next(t, &c.genesis.Header, merklelog.NewLog(merklelog.NewHasher(c.s)), txs(0, 2), c.recorders[:3])
			e, err := back.Epoch(0)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyCosignatures(c.s, back.ChainID, b.Hash, b.Cosignatures, e, back.Quorum); err != nil {
				t.Fatal(err)
			}
			vs, err := back.NoteVerifiers(0)
			if err != nil {
				t.Fatal(err)
			}
			q, err := back.QuorumSize(0)
			if err != nil || q != 3 {
				t.Fatalf("quorum %d, %v", q, err)
			}
			if _, _, err := checkpoint.Verify(b.Checkpoint, back.ChainID, vs, q); err != nil {
				t.Fatal(err)
			}
			if q1, _ := back.QuorumSize(1); q1 != 3 {
				t.Fatalf("epoch 1 (3 recorders) quorum %d, want 3", q1)
			}
			if _, err := back.Epoch(7); err == nil {
				t.Fatal("unknown epoch found")
			}
		})
	}
}

func TestTrustBundleRejectsEpochOrder(t *testing.T) {
	c := newChain(t, suite.Ed25519, 2, membership.QuorumTwoThirds)
	e0 := *c.epoch()
	if _, err := NewTrustBundle(c.g, c.s, []membership.Epoch{e0, e0}); err == nil {
		t.Fatal("repeated epoch accepted")
	}
	e0.FromHeight = 3
	if _, err := NewTrustBundle(c.g, c.s, []membership.Epoch{e0}); err == nil {
		t.Fatal("epoch 0 from height 3 accepted")
	}
}

func TestBlockRoundTrip(t *testing.T) {
	c := newChain(t, suite.Ed25519, 2, membership.QuorumAll)
	b, _ := c.next(t, &c.genesis.Header, merklelog.NewLog(merklelog.NewHasher(c.s)), txs(0, 2), c.recorders)
	b.Rejected = []Rejection{{TxID: strings.Repeat("a", 64), Reason: "record_not_found"}}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeBlock(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed the block:\n%s\n%s", data, again)
	}
	if _, err := DecodeBlock([]byte(strings.Replace(string(data), `"hash"`, `"hash2":"x","hash"`, 1))); err == nil {
		t.Fatal("unknown member accepted")
	}
}
