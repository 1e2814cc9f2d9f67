package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) { os.Exit(harness.RunTests(m)) }

// testChain builds a real chain without a network: blocks built by
// chain.Applier exactly as a leader builds them, cosigned by a quorum of
// the recorders in force, applied to a replica and appended to a LEDGER
// stream of the test's own NATS server, as the leader appends them.
type testChain struct {
	g       *block.Genesis
	s       suite.Suite
	keys    map[string]*suite.KeyFile
	signers []string // recorders that cosign the next blocks
	store   *pgstore.Store
	url     string
	applier *chain.Applier
	js      jetstream.JetStream
	clock   time.Time
	seq     int // for fresh subject codes
}

// Institution ids of the test chain.
const (
	regulatorID = "regulator"
	courtID     = "court"
	newcomerID  = "newcomer" // admitted as a recorder by member.update
)

var recorderIDs = []string{courtID, "recorder-2", "recorder-3", "recorder-4"}

func newTestChain(t *testing.T) *testChain {
	t.Helper()
	ctx := context.Background()
	env := harness.Shared(t)
	s, _ := suite.ByName(suite.Ed25519)
	c := &testChain{s: s, keys: map[string]*suite.KeyFile{}, clock: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
	g := &block.Genesis{ChainID: "audit-test-" + hex.EncodeToString(randBytes(4)), CryptoSuite: s.Name(),
		Quorum: membership.QuorumTwoThirds, Time: txn.FormatTime(c.clock),
		Limits: block.Limits{MaxTxs: 5000, MaxBytes: 8 << 20, BlockInterval: "100ms", IdleInterval: "5s"}}
	g.Members = append(g.Members, c.member(t, regulatorID, []string{membership.RoleRegulator, membership.RoleIssuer}, nil))
	for _, id := range recorderIDs {
		g.Members = append(g.Members, c.member(t, id, []string{membership.RoleRecorder, membership.RoleSubmitter}, []string{"court-defaulter"}))
	}
	rk := c.keys[regulatorID]
	g.Issuer = block.Issuer{ID: regulatorID, KeyID: rk.KeyID, Alg: rk.Alg, Public: rk.Public}
	for _, p := range policy.Builtins() {
		raw, _ := json.Marshal(p)
		g.Policies = append(g.Policies, raw)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	c.g = g
	c.signers = recorderIDs[:3]
	c.url = harness.NewTestDatabase(t, env.PG, "")
	var err error
	if c.store, err = chain.OpenReplica(ctx, c.url, g); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.store.Close)
	c.applier = chain.NewApplier(c.store, nil)
	ns, err := harness.StartNATS(harness.NATSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if c.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(ctx, c.js, streams.Options{}); err != nil {
		t.Fatal(err)
	}
	return c
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (c *testChain) member(t *testing.T, id string, roles, categories []string) membership.Member {
	k, err := c.s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kf := suite.NewKeyFile(id, k)
	c.keys[id] = kf
	return membership.Member{ID: id, Name: id, Kind: "other", Roles: roles, Categories: categories,
		Keys: []membership.Key{{KeyID: kf.KeyID, Alg: kf.Alg, Public: kf.Public}}}
}

// tx signs a transaction as submitter and returns its canonical bytes and id.
func (c *testChain) tx(t testing.TB, submitter, typ string, payload any) ([]byte, string) {
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	env := &txn.Envelope{Chain: c.g.ChainID, Type: typ, Submitter: submitter, Nonce: hex.EncodeToString(randBytes(12)),
		CreatedAt: txn.FormatTime(c.clock), Payload: raw}
	kf := c.keys[submitter]
	if err := txn.Sign(env, c.s, kf.PrivateKey(), kf.KeyID); err != nil {
		t.Fatal(err)
	}
	id, _ := env.ID(c.s)
	canon, err := env.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return canon, id
}

// uscc is a fresh valid organization code.
func (c *testChain) uscc(t testing.TB) string {
	c.seq++
	first17 := fmt.Sprintf("91350200%09d", 100000000+c.seq)
	ch, err := ids.USCCCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(ch)
}

func (c *testChain) recordCreate(t testing.TB) ([]byte, string) {
	code := c.uscc(t)
	start := c.clock.Add(-24 * time.Hour)
	return c.tx(t, courtID, "record.create", map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": code, "name": "厦门某某有限公司"},
		"category": "court-defaulter", "measures": []string{"high_consumption_ban"},
		"basis": map[string]any{"document_no": "(2026)闽02执" + code[10:16] + "号", "decided_at": txn.FormatTime(start),
			"law": "最高人民法院关于公布失信被执行人名单信息的若干规定"},
		"start": txn.FormatTime(start), "term": "P2Y", "policy": "court-defaulter"})
}

func (c *testChain) attest(t testing.TB, record string) ([]byte, string) {
	return c.tx(t, courtID, "record.attest", map[string]any{"record_id": record, "kind": "performed",
		"at": txn.FormatTime(c.clock.Add(-time.Minute))})
}

// commit builds a block of txs (all must commit), cosigns it with the
// current signers, applies it to the replica and appends it to the stream.
func (c *testChain) commit(t testing.TB, txs ...[]byte) *block.Block {
	t.Helper()
	ctx := context.Background()
	head, err := c.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.clock = c.clock.Add(time.Second)
	built, err := c.applier.Build(ctx, head, &chain.Proposal{Height: head.Height + 1, Prev: head.Hash,
		Time: txn.FormatTime(c.clock), View: 1, Proposer: c.signers[0], Candidates: txs})
	if err != nil {
		t.Fatal(err)
	}
	b := built.Block
	if len(b.Rejected) > 0 || len(b.Txs) != len(txs) {
		t.Fatalf("block %d: %d of %d transactions rejected: %v", b.Header.Height, len(b.Rejected), len(txs), b.Rejected)
	}
	for _, id := range c.signers {
		kf := c.keys[id]
		cs, err := block.Cosign(c.s, kf.PrivateKey(), id, kf.KeyID, c.g.ChainID, b.Hash)
		if err != nil {
			t.Fatal(err)
		}
		b.Cosignatures = append(b.Cosignatures, cs)
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := c.js.Publish(ctx, streams.LedgerSubject, data, jetstream.WithExpectLastSequence(head.Height))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.store.ApplyBlock(ctx, built.Update, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.store.Pool.Exec(ctx, `UPDATE blocks SET stream_seq = $1 WHERE height = $2`, int64(ack.Sequence), int64(b.Header.Height)); err != nil {
		t.Fatal(err)
	}
	return b
}

// sample commits records, attestations and a membership change that
// admits a new recorder, who then cosigns: blocks after it verify only
// against the replayed epoch 1. It returns the record ids.
func (c *testChain) sample(t *testing.T, blocks, perBlock int) []string {
	t.Helper()
	var recs []string
	for range blocks {
		txs := make([][]byte, 0, perBlock)
		for j := 0; j < perBlock; j++ {
			if j%4 == 3 && len(recs) > 0 {
				raw, _ := c.attest(t, recs[len(recs)-1-j%len(recs)])
				txs = append(txs, raw)
				continue
			}
			raw, id := c.recordCreate(t)
			txs = append(txs, raw)
			recs = append(recs, id)
		}
		c.commit(t, txs...)
		if len(recs) > 0 && c.signers[0] != newcomerID && len(recs) >= blocks*perBlock/4 {
			c.admitNewcomer(t)
		}
	}
	return recs
}

func (c *testChain) admitNewcomer(t *testing.T) {
	m := c.member(t, newcomerID, []string{membership.RoleRecorder, membership.RoleSubmitter}, []string{"court-defaulter"})
	raw, _ := c.tx(t, regulatorID, "member.update", map[string]any{"action": "admit", "member": map[string]any{
		"id": m.ID, "name": m.Name, "kind": m.Kind, "roles": m.Roles, "categories": m.Categories, "keys": m.Keys}})
	c.commit(t, raw)
	// Five recorders now: two-thirds is four, the newcomer among them.
	c.signers = []string{newcomerID, recorderIDs[0], recorderIDs[1], recorderIDs[2]}
}
