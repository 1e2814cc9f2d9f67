// Package certtest makes a small in-memory chain whose block commits a
// record.exit, and the certificate of that exit, for tests of the
// packages that sign, render and verify certificates.
package certtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// seedReader yields a fixed byte stream, so that test keys are stable.
type seedReader struct {
	state [32]byte
	buf   []byte
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

// Ids of the fixture's chain and members.
const (
	CenterID = "91350200776049653A" // credit center: regulator, issuer
	ChainID  = "creditchain-test"
)

// RecorderID is the id of recorder i (0 to 3); recorder 0 is the court
// that created the record, recorder 1 submitted the exit.
func RecorderID(i int) string { return fmt.Sprintf("11350200MB%07dA", i) }

// Fixture is a small chain whose block 2 commits a record.exit among other
// transactions, and everything cert.Build needs about that exit.
type Fixture struct {
	S       suite.Suite
	Keys    map[string]*suite.PrivateKey
	Genesis *block.Genesis
	Trust   *block.TrustBundle
	Exit    *cert.Exit
	ExitID  string
}

// New makes the fixture under suite suiteName ("ed25519" or "sm2"). Keys
// are derived from fixed seeds, so the chain is the same on every run.
func New(t testing.TB, suiteName string) *Fixture {
	t.Helper()
	s, err := suite.ByName(suiteName)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fixture{S: s, Keys: map[string]*suite.PrivateKey{}}
	key := func(id string) membership.Key {
		k, err := s.GenerateKey(&seedReader{state: sha256.Sum256([]byte(suiteName + "/" + id))})
		if err != nil {
			t.Fatal(err)
		}
		f.Keys[id] = k
		return membership.Key{KeyID: suite.KeyID(k.Alg, k.Public), Alg: k.Alg, Public: k.Public}
	}
	g := &block.Genesis{ChainID: ChainID, CryptoSuite: suiteName, Quorum: membership.QuorumTwoThirds,
		Time:   "2026-11-25T08:00:00Z",
		Limits: block.Limits{MaxTxs: 100, MaxBytes: 1 << 20, BlockInterval: "1s", IdleInterval: "1m"}}
	ck := key(CenterID)
	g.Members = append(g.Members, membership.Member{ID: CenterID, Name: "厦门市公共信用信息中心", Kind: "credit_center",
		Roles: []string{membership.RoleRegulator, membership.RoleIssuer, membership.RoleSubmitter}, Keys: []membership.Key{ck}})
	g.Issuer = block.Issuer{ID: CenterID, KeyID: ck.KeyID, Alg: ck.Alg, Public: ck.Public}
	for i := range 4 {
		id := RecorderID(i)
		g.Members = append(g.Members, membership.Member{ID: id, Name: fmt.Sprintf("记账机构%d", i), Kind: "court",
			Roles: []string{membership.RoleRecorder, membership.RoleSubmitter}, Categories: []string{"court-defaulter"},
			Keys: []membership.Key{key(id)}})
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	f.Genesis = g
	if f.Trust, err = block.NewTrustBundle(g, s, nil); err != nil {
		t.Fatal(err)
	}

	court := RecorderID(0)
	create := f.sign(t, court, txn.TypeRecordCreate, map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": "91350200776049653A", "name": "厦门某某有限公司"},
		"category": "court-defaulter", "measures": []string{"high_consumption_ban"},
		"basis": map[string]any{"document_no": "(2026)闽02执123号", "decided_at": "2026-01-05T00:00:00Z", "law": "若干规定"},
		"start": "2026-01-05T00:00:00Z", "term": "P2Y", "policy": "court-defaulter"})
	recID := f.id(t, create)
	attest := f.sign(t, court, txn.TypeRecordAttest, map[string]any{"record_id": recID, "kind": "performed", "at": "2026-11-25T07:00:00Z"})
	exit := f.sign(t, RecorderID(1), txn.TypeRecordExit, map[string]any{"record_id": recID, "policy": "court-defaulter", "version": 1, "reason": "obligations performed"})
	filler := f.sign(t, court, txn.TypeRecordAttest, map[string]any{"record_id": recID, "kind": "settled", "at": "2026-11-25T07:30:00Z"})
	f.ExitID = f.id(t, exit)

	// Block 1 holds create and attest; block 2 holds exit and filler, so
	// that the proof has elements from both blocks.
	hasher := merklelog.NewHasher(s)
	log, store := merklelog.NewLog(hasher), merklelog.NewMemoryStore()
	gb, err := g.Block(s)
	if err != nil {
		t.Fatal(err)
	}
	b1 := f.block(t, &gb.Header, log, store, []*txn.Envelope{create, attest})
	b2 := f.block(t, &b1.Header, log, store, []*txn.Envelope{exit, filler})
	p, err := merklelog.ProveInclusion(context.Background(), store, hasher, 2, b2.Header.LogSize)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := hex.DecodeString(b2.Header.LogRoot)
	exitJSON, err := exit.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	exitTime, _ := txn.ParseTime(b2.Header.Time)
	start, _ := txn.ParseTime("2026-01-05T00:00:00Z")
	f.Exit = &cert.Exit{
		Record: &ledger.Record{ID: recID, Subject: txn.Subject{Kind: "organization", USCC: "91350200776049653A", Name: "厦门某某有限公司"},
			Category: "court-defaulter", Authority: court, Basis: txn.Basis{DocumentNo: "(2026)闽02执123号"},
			Start: start, Term: "P2Y", Status: ledger.StatusExited,
			Exit: &ledger.Exit{TxID: f.ExitID, Height: 2, Time: exitTime, Reason: "obligations performed"}},
		Tx:        exitJSON,
		Inclusion: merklelog.NewInclusionProof(f.ExitID, 2, b2.Header.LogSize, root, p),
		Block:     b2,
		Issuer:    CenterID,
	}
	return f
}

func (f *Fixture) sign(t testing.TB, who, typ string, p any) *txn.Envelope {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	k := f.Keys[who]
	e := &txn.Envelope{Chain: ChainID, Type: typ, Submitter: who, Nonce: "nonce-" + typ + "-0123456789",
		CreatedAt: "2026-11-25T07:59:00Z", Payload: raw}
	if err := txn.Sign(e, f.S, k, suite.KeyID(k.Alg, k.Public)); err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *Fixture) id(t testing.TB, e *txn.Envelope) string {
	t.Helper()
	id, err := e.ID(f.S)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// block appends txs to log and returns the block after prev, cosigned by
// three of the four recorders (the two-thirds quorum).
func (f *Fixture) block(t testing.TB, prev *block.Header, log *merklelog.Log, store *merklelog.MemoryStore, envs []*txn.Envelope) *block.Block {
	t.Helper()
	var raws []json.RawMessage
	for _, e := range envs {
		c, err := e.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, c)
	}
	leaves, err := block.Leaves(raws)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := log.Append(leaves)
	if err != nil {
		t.Fatal(err)
	}
	store.Put(nodes)
	root, _ := log.Root()
	txRoot, err := block.TxRoot(f.S, raws)
	if err != nil {
		t.Fatal(err)
	}
	prevHash, err := prev.Hash(f.S)
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := txn.ParseTime(prev.Time)
	b := &block.Block{Header: block.Header{Chain: ChainID, Height: prev.Height + 1, Prev: prevHash,
		Time: txn.FormatTime(pt.Add(90 * time.Second)), View: 1, Proposer: RecorderID(0), Epoch: 0,
		TxCount: len(raws), TxRoot: txRoot, LogSize: log.Size(), LogRoot: hex.EncodeToString(root)}, Txs: raws}
	if b.Hash, err = b.Header.Hash(f.S); err != nil {
		t.Fatal(err)
	}
	b.Cosignatures = f.cosign(t, b.Hash, 3)
	return b
}

func (f *Fixture) cosign(t testing.TB, hash string, n int) []block.Cosignature {
	t.Helper()
	var out []block.Cosignature
	for i := range n {
		id := RecorderID(i)
		k := f.Keys[id]
		c, err := block.Cosign(f.S, k, id, suite.KeyID(k.Alg, k.Public), ChainID, hash)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// Issue builds and signs the fixture's certificate with the issuer key.
func (f *Fixture) Issue(t testing.TB) *cert.Certificate {
	t.Helper()
	cred, err := cert.Build(f.S, f.Exit)
	if err != nil {
		t.Fatal(err)
	}
	k := f.Keys[CenterID]
	c, err := cert.Sign(f.S, cred, k, suite.KeyID(k.Alg, k.Public))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Resign signs payload as the issuer would, so that a test can reach the
// checks behind the signature with a doctored credential.
func (f *Fixture) Resign(t testing.TB, payload []byte) string {
	t.Helper()
	return f.SignAs(t, CenterID, payload)
}

// SignAs signs payload as a JWS with member id's key.
func (f *Fixture) SignAs(t testing.TB, id string, payload []byte) string {
	t.Helper()
	k := f.Keys[id]
	enc := base64.RawURLEncoding
	hdr := `{"alg":"` + f.S.JWSAlg() + `","typ":"vc+jwt","kid":"` + suite.KeyID(k.Alg, k.Public) + `"}`
	input := enc.EncodeToString([]byte(hdr)) + "." + enc.EncodeToString(payload)
	sig, err := f.S.Sign(k, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}
