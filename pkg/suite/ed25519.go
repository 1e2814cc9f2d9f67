package suite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// ed25519Suite signs with Ed25519 (RFC 8032, pure, no context) and hashes
// with SHA-256.
//
// Verification rule: crypto/ed25519.Verify from the Go standard library, which
// rejects non-canonical S and checks the cofactorless equation. Every node
// uses this one rule. A batch verifier, if one is ever added, must accept and
// reject exactly the same signatures as this single verifier (or both must
// switch together, e.g. to ZIP-215); otherwise a crafted signature could be
// valid on some nodes and invalid on others and fork the chain.
type ed25519Suite struct{}

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
	return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
}
