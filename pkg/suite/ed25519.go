package suite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// ed25519Suite signs with Ed25519 (RFC 8032, pure, no context) and hashes
// with SHA-256.
//
// Verification rule: ZIP-215 (cofactored equation; small-order and
// non-canonical A and R accepted, non-canonical S rejected), through
// github.com/oasisprotocol/curve25519-voi, for single and batch checks
// alike. Batch verification roughly halves the cost of a block's
// signatures, and a batch verifier can only agree with the single one
// under a cofactored rule: with any other pair, a crafted signature could
// be valid on some nodes and invalid on others and fork the chain (DESIGN
// 3). Signatures made by any RFC 8032 signer verify under it.
type ed25519Suite struct{}

var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

func (ed25519Suite) Name() string   { return Ed25519 }
func (ed25519Suite) JWSAlg() string { return "Ed25519" }

func (ed25519Suite) Hash(data []byte) []byte {
	h := sha256.Sum256(data)
	return h[:]
}

func (ed25519Suite) GenerateKey(rand io.Reader) (*PrivateKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("ed25519: reading seed: %w", err)
	}
	return ed25519FromSeed(seed), nil
}

func ed25519FromSeed(seed []byte) *PrivateKey {
	k := ed25519.NewKeyFromSeed(seed)
	return &PrivateKey{
		Alg:     Ed25519,
		Public:  bytes.Clone(k.Public().(ed25519.PublicKey)),
		Private: bytes.Clone(seed),
	}
}

func (ed25519Suite) Sign(priv *PrivateKey, msg []byte) ([]byte, error) {
	if err := checkPrivate(Ed25519, priv); err != nil {
		return nil, err
	}
	k := ed25519.NewKeyFromSeed(priv.Private)
	if !bytes.Equal(k.Public().(ed25519.PublicKey), priv.Public) {
		return nil, errors.New("ed25519: public key does not match the seed")
	}
	return ed25519.Sign(k, msg), nil
}

func (ed25519Suite) Verify(pub, msg, sig []byte) bool {
	// The stdlib panics on a wrong-sized key; a client-supplied key must
	// simply fail.
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	if k := expanded(pub); k != nil {
		return voi.VerifyExpandedWithOptions(k, msg, sig, zip215)
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, zip215)
}

// expandedKeys caches public keys decompressed with their precomputed
// tables: a network verifies everything against a few dozen member keys,
// and decompressing the key was a quarter of each check. Bounded, since a
// caller may hand in any key.
var expandedKeys struct {
	sync.Mutex
	m map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey
}

const maxExpandedKeys = 4096

// expanded is pub's cached expanded form, or nil when pub does not
// decompress (the plain check then refuses it) or the cache is full.
func expanded(pub []byte) *voi.ExpandedPublicKey {
	key := [ed25519.PublicKeySize]byte(pub)
	expandedKeys.Lock()
	defer expandedKeys.Unlock()
	if k, ok := expandedKeys.m[key]; ok {
		return k
	}
	if len(expandedKeys.m) >= maxExpandedKeys {
		return nil
	}
	k, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil
	}
	if expandedKeys.m == nil {
		expandedKeys.m = map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey{}
	}
	expandedKeys.m[key] = k
	return k
}

// minBatch is the size below which checking one by one is as fast.
const minBatch = 8

func (s ed25519Suite) verifyBatch(items []SignedMessage) []bool {
	ok := make([]bool, len(items))
	if len(items) < minBatch {
		for i, it := range items {
			ok[i] = s.Verify(it.Public, it.Message, it.Sig)
		}
		return ok
	}
	bv := voi.NewBatchVerifier()
	idx := make([]int, 0, len(items))
	for i, it := range items {
		if len(it.Public) != ed25519.PublicKeySize || len(it.Sig) != ed25519.SignatureSize {
			continue
		}
		if k := expanded(it.Public); k != nil {
			bv.AddExpandedWithOptions(k, it.Message, it.Sig, zip215)
		} else {
			bv.AddWithOptions(voi.PublicKey(it.Public), it.Message, it.Sig, zip215)
		}
		idx = append(idx, i)
	}
	// Verify falls back to checking each signature when the batch fails,
	// so one bad signature costs the block a second pass, not a wrong verdict.
	_, valid := bv.Verify(rand.Reader)
	for j, i := range idx {
		ok[i] = valid[j]
	}
	return ok
}
