package block

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// The block vectors published in docs/test-vectors.md ("## Merkle log and
// blocks"). The key is the Envelope vectors' Ed25519 key (seed 01..20).
const (
	vectorInstitution   = "91350200776049653A"
	vectorKeyID         = "95008854475f1fa6"
	vectorGenesisJCS    = `{"chain_id":"creditchain-test","crypto_suite":"ed25519","issuer":{"alg":"ed25519","id":"91350200776049653A","key_id":"95008854475f1fa6","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="},"limits":{"block_interval":"1s","idle_interval":"1m0s","max_bytes":4194304,"max_txs":1000},"members":[{"categories":["court-defaulter"],"id":"91350200776049653A","keys":[{"alg":"ed25519","key_id":"95008854475f1fa6","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="}],"kind":"court","name":"厦门市中级人民法院","roles":["recorder","submitter"]}],"policies":[],"quorum":"two-thirds","time":"2026-11-25T08:00:00Z"}`
	vectorGenesisHeader = `{"chain":"creditchain-test","epoch":0,"height":0,"log_root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","log_size":0,"params":"225830c5d5e72650a217556d2491f1138e6095f2bb5eda89d30b153a1369a1da","prev":"0000000000000000000000000000000000000000000000000000000000000000","proposer":"","time":"2026-11-25T08:00:00Z","tx_count":0,"tx_root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","view":0}`
	vectorGenesisHash   = "94d2dd8e4c059e33bf0909a41550b90a5d0422f28f3708a0d2fbfab9364bf738"
	// The Envelope section's signed Ed25519 envelope, canonical.
	vectorEnvelope     = `{"chain":"creditchain-test","created_at":"2026-11-25T08:00:00Z","nonce":"Zq3xT8vN2mK7pL4wR9sB6yHc","payload":{"basis":{"decided_at":"2026-01-05T00:00:00Z","document_no":"(2026)闽02执123号","law":"最高人民法院关于公布失信被执行人名单信息的若干规定 第一条"},"category":"court-defaulter","measures":["high_consumption_ban","travel_ban"],"policy":"court-defaulter","start":"2026-01-05T00:00:00Z","subject":{"kind":"organization","name":"厦门某某有限公司","uscc":"91350200776049653A"},"term":"P2Y"},"sig":{"alg":"ed25519","key_id":"95008854475f1fa6","value":"gGzHFUhGRcSqSjYIDnz5hLDxF4Urp8MHCDoWJ_4AQYvrBuyTYuYi2uVzy4tjQo2pcKjrdMMIl6dgaJ2_G_AACw"},"submitter":"91350200776049653A","type":"record.create"}`
	vectorBlock1Header = `{"chain":"creditchain-test","epoch":0,"height":1,"log_root":"b2779887c0d93123191975a8ff44d719fee1c9be0a2507281ce44c087b1256b8","log_size":1,"prev":"94d2dd8e4c059e33bf0909a41550b90a5d0422f28f3708a0d2fbfab9364bf738","proposer":"91350200776049653A","time":"2026-11-25T08:00:01.5Z","tx_count":1,"tx_root":"b2779887c0d93123191975a8ff44d719fee1c9be0a2507281ce44c087b1256b8","view":1}`
	vectorBlock1Hash   = "310ea740da1b7b4634cded4cf9da3204dacaaa7c87415366e08c2369a3d7a689"
	vectorCosignMsg    = "creditchain-block-v1:creditchain-test:310ea740da1b7b4634cded4cf9da3204dacaaa7c87415366e08c2369a3d7a689"
	vectorCosignature  = `{"institution":"91350200776049653A","key_id":"95008854475f1fa6","sig":"8VJXk0mmuFgULQaFHpMxf9aJJFfjgevkefUjhFAtBXuGSyD_31QhHgQR5AwTSM2ugh49h4wWJq08ezo6QdOACg"}`
	vectorNoteKey      = "91350200776049653A+e5b58ae3+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk"
	vectorCheckpoint   = "creditchain-test\n1\nsneYh8DZMSMZGXWo/0TXGf7hyb4KJQcoHORMCHsSVrg=\n\n— 91350200776049653A 5bWK45IOxDiBfW4AGr37bpGuWGumD0HdvysDi5oIQpLYdTqCuaXuURbKtukrkyUUpzrY37XDLLPySrjdatzO2qaYlw4=\n"
)

func vectorKey(t *testing.T) (suite.Suite, *suite.PrivateKey) {
	t.Helper()
	s, err := suite.ByName(suite.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	k, err := s.GenerateKey(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if got := suite.KeyID(k.Alg, k.Public); got != vectorKeyID {
		t.Fatalf("key id %s, want %s", got, vectorKeyID)
	}
	return s, k
}

func vectorGenesis(k *suite.PrivateKey) *Genesis {
	return &Genesis{
		ChainID: "creditchain-test", CryptoSuite: suite.Ed25519, Quorum: membership.QuorumTwoThirds, Time: "2026-11-25T08:00:00Z",
		Limits: Limits{MaxTxs: 1000, MaxBytes: 4194304, BlockInterval: "1s", IdleInterval: "1m0s"},
		Members: []membership.Member{{
			ID: vectorInstitution, Name: "厦门市中级人民法院", Kind: "court",
			Roles: []string{membership.RoleRecorder, membership.RoleSubmitter}, Categories: []string{"court-defaulter"},
			Keys: []membership.Key{{KeyID: vectorKeyID, Alg: suite.Ed25519, Public: k.Public}},
		}},
		Issuer: Issuer{ID: vectorInstitution, KeyID: vectorKeyID, Alg: suite.Ed25519, Public: k.Public},
	}
}

func TestBlockVectors(t *testing.T) {
	s, k := vectorKey(t)
	g := vectorGenesis(k)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "genesis JCS", string(mustCanonical(t, g)), vectorGenesisJCS)
	gb, err := g.Block(s)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "genesis header", string(mustCanonical(t, gb.Header)), vectorGenesisHeader)
	mustEqual(t, "genesis hash", gb.Hash, vectorGenesisHash)

	txs := []json.RawMessage{json.RawMessage(vectorEnvelope)}
	txRoot, err := TxRoot(s, txs)
	if err != nil {
		t.Fatal(err)
	}
	log := merklelog.NewLog(merklelog.NewHasher(s))
	b := &Block{Header: Header{
		Chain: "creditchain-test", Height: 1, Prev: gb.Hash, Time: "2026-11-25T08:00:01.5Z", View: 1,
		Proposer: vectorInstitution, TxCount: 1, TxRoot: txRoot, LogSize: 1, LogRoot: txRoot,
	}, Txs: txs}
	mustEqual(t, "block 1 header", string(mustCanonical(t, b.Header)), vectorBlock1Header)
	if b.Hash, err = b.Header.Hash(s); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "block 1 hash", b.Hash, vectorBlock1Hash)
	mustEqual(t, "cosignature message", string(CosignMessage(b.Header.Chain, b.Hash)), vectorCosignMsg)
	cs, err := Cosign(s, k, vectorInstitution, vectorKeyID, b.Header.Chain, b.Hash)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cs)
	mustEqual(t, "cosignature", string(got), vectorCosignature)
	b.Cosignatures = []Cosignature{cs}

	vk, err := checkpoint.VerifierKey(vectorInstitution, k.Alg, k.Public)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "note key", vk, vectorNoteKey)
	sg, err := checkpoint.NewSigner(vectorInstitution, s, k)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := hex.DecodeString(txRoot)
	b.Checkpoint, err = checkpoint.Sign(checkpoint.Body(b.Header.Chain, 1, root), sg)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "checkpoint", b.Checkpoint, vectorCheckpoint)

	// The documented block verifies as a whole, and the stock note package
	// opens the documented checkpoint with the documented key.
	if _, err := VerifyNext(s, &gb.Header, b, g.Epoch(), g.Quorum, log); err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vectorNoteKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open([]byte(vectorCheckpoint), note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
}

// TestBlockVectorsDocumented keeps docs/test-vectors.md and the constants in
// step.
func TestBlockVectorsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/test-vectors.md")
	if err != nil {
		t.Fatalf("reading docs/test-vectors.md: %v", err)
	}
	_, sec, ok := strings.Cut(string(doc), "## Merkle log and blocks")
	if !ok {
		t.Fatal(`docs/test-vectors.md has no "## Merkle log and blocks" section`)
	}
	for name, v := range map[string]string{
		"genesis JCS": vectorGenesisJCS, "genesis header": vectorGenesisHeader, "genesis hash": vectorGenesisHash,
		"block 1 header": vectorBlock1Header, "block 1 hash": vectorBlock1Hash, "cosignature message": vectorCosignMsg,
		"cosignature": vectorCosignature, "note key": vectorNoteKey, "checkpoint": vectorCheckpoint,
	} {
		if !strings.Contains(sec, v) {
			t.Errorf("the section lacks the %s %s", name, v)
		}
	}
	// The envelope is the one the Envelope section publishes.
	if !strings.Contains(string(doc), vectorEnvelope) {
		t.Error("docs/test-vectors.md lacks the signed envelope block 1 holds")
	}
}

func mustCanonical(t *testing.T, v any) []byte {
	t.Helper()
	b, err := canonical(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEqual(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}
