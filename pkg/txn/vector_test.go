package txn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

// The envelope test vector published in docs/test-vectors.md ("## Envelope").
// It was generated once and is frozen here: any change to canonicalization,
// hashing, key ids or signing fails this test. The Ed25519 values were
// cross-checked with an independent implementation (Python hashlib and
// cryptography), the SM3 tx id with OpenSSL's SM3.
const (
	vectorUSCC = "91350200776049653A"

	vectorEd25519KeyFile = `{"institution":"91350200776049653A","key_id":"95008854475f1fa6","alg":"ed25519","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=","private":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}`
	vectorSM2KeyFile     = `{"institution":"91350200776049653A","key_id":"810f9b1a80643a6a","alg":"sm2","public":"BEbRCG9uXJOER/BSgNtwfCeae0WcOPGeTZowrS2t+fKK9F/B3Fs3dza1fpfn4FY8zKJMl/RA4dE35ZQdhNLrQ8k=","private":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}`

	// vectorEnvelope is the unsigned envelope as a client might write it.
	vectorEnvelope = `{
  "chain": "creditchain-test",
  "type": "record.create",
  "submitter": "91350200776049653A",
  "nonce": "Zq3xT8vN2mK7pL4wR9sB6yHc",
  "created_at": "2026-11-25T08:00:00Z",
  "payload": {
    "subject": {"kind": "organization", "uscc": "91350200776049653A", "name": "厦门某某有限公司"},
    "category": "court-defaulter",
    "measures": ["high_consumption_ban", "travel_ban"],
    "basis": {"document_no": "(2026)闽02执123号", "decided_at": "2026-01-05T00:00:00Z",
              "law": "最高人民法院关于公布失信被执行人名单信息的若干规定 第一条"},
    "start": "2026-01-05T00:00:00Z",
    "term": "P2Y",
    "policy": "court-defaulter"
  }
}`

	vectorSigningBytes = `{"chain":"creditchain-test","created_at":"2026-11-25T08:00:00Z","nonce":"Zq3xT8vN2mK7pL4wR9sB6yHc","payload":{"basis":{"decided_at":"2026-01-05T00:00:00Z","document_no":"(2026)闽02执123号","law":"最高人民法院关于公布失信被执行人名单信息的若干规定 第一条"},"category":"court-defaulter","measures":["high_consumption_ban","travel_ban"],"policy":"court-defaulter","start":"2026-01-05T00:00:00Z","subject":{"kind":"organization","name":"厦门某某有限公司","uscc":"91350200776049653A"},"term":"P2Y"},"submitter":"91350200776049653A","type":"record.create"}`

	vectorEd25519TxID      = "9b26506d426fcf5b49ab55c8bc9abd019fd707f0786b8c58be8359d2b9de65ea"
	vectorEd25519Signature = "gGzHFUhGRcSqSjYIDnz5hLDxF4Urp8MHCDoWJ_4AQYvrBuyTYuYi2uVzy4tjQo2pcKjrdMMIl6dgaJ2_G_AACw"
	vectorEd25519Canonical = `{"chain":"creditchain-test","created_at":"2026-11-25T08:00:00Z","nonce":"Zq3xT8vN2mK7pL4wR9sB6yHc","payload":{"basis":{"decided_at":"2026-01-05T00:00:00Z","document_no":"(2026)闽02执123号","law":"最高人民法院关于公布失信被执行人名单信息的若干规定 第一条"},"category":"court-defaulter","measures":["high_consumption_ban","travel_ban"],"policy":"court-defaulter","start":"2026-01-05T00:00:00Z","subject":{"kind":"organization","name":"厦门某某有限公司","uscc":"91350200776049653A"},"term":"P2Y"},"sig":{"alg":"ed25519","key_id":"95008854475f1fa6","value":"gGzHFUhGRcSqSjYIDnz5hLDxF4Urp8MHCDoWJ_4AQYvrBuyTYuYi2uVzy4tjQo2pcKjrdMMIl6dgaJ2_G_AACw"},"submitter":"91350200776049653A","type":"record.create"}`

	vectorSM2TxID = "7cdec4a61e1dc25ba15e359e25ca19ac379298e70b8a821c2abe053f6890e669"
	// SM2 signatures are randomized: this one must verify, but Sign makes others.
	vectorSM2Signature = "aAIMqDB1eYbmDRj89iUTtXQKEQfxdiJYQFVwZE7nFziOFaNjnTBSz9tQUQYWmoZVLNiyKJMZQDcDkSyZQjccrg"

	vectorPersonal          = `{"name":"张三","id_number":"11010519491231002X","salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}`
	vectorEd25519Commitment = "e4266fac23c23d7d58544db24399fecbd40a8204847f5f38e78a149a4bb670ed"
	vectorSM2Commitment     = "32aef585a195a373537f8c0104e385123b7ce00aae48778b545803a0c5dbf59d"
)

func loadVectorKey(t *testing.T, text string) *suite.KeyFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	kf, err := suite.LoadKeyFile(path)
	if err != nil {
		t.Fatalf("vector key file: %v", err)
	}
	return kf
}

func TestEnvelopeVector(t *testing.T) {
	cases := []struct {
		keyFile, txID, sig, commitment string
	}{
		{vectorEd25519KeyFile, vectorEd25519TxID, vectorEd25519Signature, vectorEd25519Commitment},
		{vectorSM2KeyFile, vectorSM2TxID, vectorSM2Signature, vectorSM2Commitment},
	}
	for _, c := range cases {
		kf := loadVectorKey(t, c.keyFile)
		s, err := suite.ByName(kf.Alg)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(kf.Alg, func(t *testing.T) {
			// The seed (or scalar) is the bytes 0x01..0x20.
			for i, b := range kf.Private {
				if b != byte(i+1) {
					t.Fatalf("private key byte %d is %#x", i, b)
				}
			}
			e, err := DecodeEnvelope([]byte(vectorEnvelope))
			if err != nil {
				t.Fatal(err)
			}
			sb, err := e.SigningBytes()
			if err != nil {
				t.Fatal(err)
			}
			if len(sb) != 589 || string(sb) != vectorSigningBytes {
				t.Fatalf("signing bytes:\n got %s\nwant %s", sb, vectorSigningBytes)
			}
			id, err := e.ID(s)
			if err != nil || id != c.txID {
				t.Fatalf("tx id %s (%v), want %s", id, err, c.txID)
			}
			// The published signature verifies.
			e.Sig = &Signature{Alg: kf.Alg, KeyID: kf.KeyID, Value: c.sig}
			if err := e.VerifySignature(s, kf.Public); err != nil {
				t.Fatalf("published signature: %v", err)
			}
			if id2, _ := e.ID(s); id2 != c.txID {
				t.Fatal("the signature changed the tx id")
			}
			// Signing reproduces it where the scheme is deterministic.
			if err := Sign(e, s, kf.PrivateKey(), kf.KeyID); err != nil {
				t.Fatal(err)
			}
			if err := e.VerifySignature(s, kf.Public); err != nil {
				t.Fatal(err)
			}
			if kf.Alg == suite.Ed25519 {
				if e.Sig.Value != c.sig {
					t.Fatalf("signature %s, want %s", e.Sig.Value, c.sig)
				}
				canon, err := e.Canonical()
				if err != nil || string(canon) != vectorEd25519Canonical {
					t.Fatalf("canonical (%v):\n got %s\nwant %s", err, canon, vectorEd25519Canonical)
				}
			}
			var p Personal
			if err := json.Unmarshal([]byte(vectorPersonal), &p); err != nil {
				t.Fatal(err)
			}
			if got, err := Commitment(s, &p); err != nil || got != c.commitment {
				t.Fatalf("commitment %s (%v), want %s", got, err, c.commitment)
			}
		})
	}
}

// TestVectorDocumented keeps docs/test-vectors.md and the frozen constants
// in step.
func TestVectorDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/test-vectors.md")
	if err != nil {
		t.Fatalf("reading docs/test-vectors.md: %v", err)
	}
	_, env, ok := strings.Cut(string(doc), "## Envelope")
	if !ok {
		t.Fatal(`docs/test-vectors.md has no "## Envelope" section`)
	}
	for name, v := range map[string]string{
		"ed25519 key file":   vectorEd25519KeyFile,
		"sm2 key file":       vectorSM2KeyFile,
		"signing bytes":      vectorSigningBytes,
		"ed25519 tx id":      vectorEd25519TxID,
		"ed25519 signature":  vectorEd25519Signature,
		"ed25519 canonical":  vectorEd25519Canonical,
		"sm2 tx id":          vectorSM2TxID,
		"sm2 signature":      vectorSM2Signature,
		"personal":           vectorPersonal,
		"ed25519 commitment": vectorEd25519Commitment,
		"sm2 commitment":     vectorSM2Commitment,
	} {
		if !strings.Contains(env, v) {
			t.Errorf("the Envelope section of docs/test-vectors.md lacks the %s %s", name, v)
		}
	}
}
