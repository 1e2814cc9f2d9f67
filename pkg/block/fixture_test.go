package block

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// seedReader yields a fixed byte stream, so that test keys are stable.
type seedReader struct {
	state [32]byte
	buf   []byte
}

func newSeedReader(label string) *seedReader {
	return &seedReader{state: sha256.Sum256([]byte(label))}
}

func (r *seedReader) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(r.buf) == 0 {
			r.state = sha256.Sum256(r.state[:])
			r.buf = r.state[:]
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return len(p), nil
}

// chain is a test network: recorders, a submitter, a genesis, and a way to
// cut valid blocks.
type chain struct {
	s         suite.Suite
	g         *Genesis
	keys      map[string]*suite.PrivateKey
	recorders []string
	outsider  string // an active member that is not a recorder
	genesis   *Block
}

func recorderID(i int) string { return fmt.Sprintf("11350200MB%07dA", i) }

func key(t testing.TB, s suite.Suite, label string) *suite.PrivateKey {
	t.Helper()
	k, err := s.GenerateKey(newSeedReader(s.Name() + "/" + label))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func member(t testing.TB, s suite.Suite, id string, roles ...string) (membership.Member, *suite.PrivateKey) {
	k := key(t, s, id)
	return membership.Member{
		ID: id, Name: "机构 " + id, Kind: "court", Roles: roles, Categories: []string{"court-defaulter"},
		Keys: []membership.Key{{KeyID: suite.KeyID(k.Alg, k.Public), Alg: k.Alg, Public: k.Public}},
	}, k
}

func newChain(t testing.TB, suiteName string, recorders int, rule string) *chain {
	t.Helper()
	s, err := suite.ByName(suiteName)
	if err != nil {
		t.Fatal(err)
	}
	c := &chain{s: s, keys: map[string]*suite.PrivateKey{}}
	var members []membership.Member
	for i := range recorders {
		id := recorderID(i)
		m, k := member(t, s, id, membership.RoleRecorder, membership.RoleSubmitter)
		members = append(members, m)
		c.keys[id], c.recorders = k, append(c.recorders, id)
	}
	c.outsider = "91350200776049653A"
	m, k := member(t, s, c.outsider, membership.RoleSubmitter)
	m.Kind, m.Categories = "bank", nil
	members = append(members, m)
	c.keys[c.outsider] = k
	ik := key(t, s, "issuer")
	c.g = &Genesis{
		ChainID: "creditchain-test", CryptoSuite: suiteName, Quorum: rule, Time: "2026-11-25T08:00:00Z",
		Limits:   Limits{MaxTxs: 1000, MaxBytes: 4 << 20, BlockInterval: "1s", IdleInterval: "1m"},
		Members:  members,
		Policies: []json.RawMessage{json.RawMessage(`{"id":"court-defaulter","version":1}`)},
		Issuer:   Issuer{ID: recorderID(0), KeyID: suite.KeyID(ik.Alg, ik.Public), Alg: ik.Alg, Public: ik.Public},
	}
	if err := c.g.Validate(); err != nil {
		t.Fatal(err)
	}
	c.genesis, err = c.g.Block(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tx(i int) json.RawMessage {
	// Deliberately not canonical: keys out of order, spaces.
	return json.RawMessage(fmt.Sprintf(`{"type": "record.create", "chain": "creditchain-test", "nonce": "n%06d"}`, i))
}

func txs(from, n int) []json.RawMessage {
	var out []json.RawMessage
	for i := range n {
		out = append(out, tx(from+i))
	}
	return out
}

// next builds the block after prev with txs, cosigned by signers, and its
// log. It does not verify anything.
func (c *chain) next(t testing.TB, prev *Header, log *merklelog.Log, body []json.RawMessage, signers []string) (*Block, *merklelog.Log) {
	t.Helper()
	leaves, err := Leaves(body)
	if err != nil {
		t.Fatal(err)
	}
	h := merklelog.NewHasher(c.s)
	next := log.Clone()
	if _, err := next.Append(leaves); err != nil {
		t.Fatal(err)
	}
	root, _ := next.Root()
	pt, _ := time.Parse(time.RFC3339Nano, prev.Time)
	prevHash, err := prev.Hash(c.s)
	if err != nil {
		t.Fatal(err)
	}
	b := &Block{Header: Header{
		Chain: prev.Chain, Height: prev.Height + 1, Prev: prevHash,
		Time: pt.Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano), View: 1,
		Proposer: c.recorders[0], Epoch: 0, TxCount: len(body),
		TxRoot:  hex.EncodeToString(merklelog.Root(h, leaves)),
		LogSize: next.Size(), LogRoot: hex.EncodeToString(root),
	}, Txs: body}
	c.seal(t, b, signers)
	return b, next
}

// seal recomputes the hash and cosigns it (after a test edits the header).
func (c *chain) seal(t testing.TB, b *Block, signers []string) {
	t.Helper()
	hash, err := b.Header.Hash(c.s)
	if err != nil {
		t.Fatal(err)
	}
	b.Hash = hash
	b.Cosignatures = c.cosign(t, hash, signers)
	b.Checkpoint = c.checkpoint(t, &b.Header, signers)
}

func (c *chain) cosign(t testing.TB, hash string, signers []string) []Cosignature {
	t.Helper()
	var out []Cosignature
	for _, id := range signers {
		k := c.keys[id]
		cs, err := Cosign(c.s, k, id, suite.KeyID(k.Alg, k.Public), c.g.ChainID, hash)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cs)
	}
	return out
}

func (c *chain) checkpoint(t testing.TB, h *Header, signers []string) string {
	t.Helper()
	root, err := hex.DecodeString(h.LogRoot)
	if err != nil {
		t.Fatal(err)
	}
	body := checkpoint.Body(h.Chain, h.LogSize, root)
	var notes []string
	for _, id := range signers {
		sg, err := checkpoint.NewSigner(id, c.s, c.keys[id])
		if err != nil {
			t.Fatal(err)
		}
		n, err := checkpoint.Sign(body, sg)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	if len(notes) == 0 {
		return ""
	}
	merged, err := checkpoint.Merge(notes...)
	if err != nil {
		t.Fatal(err)
	}
	return merged
}

func (c *chain) epoch() *membership.Epoch { return c.g.Epoch() }
