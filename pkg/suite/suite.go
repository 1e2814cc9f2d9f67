// Package suite defines the crypto suites a chain may choose at genesis:
// "ed25519" (Ed25519 signatures, SHA-256 hashes) and "sm2" (SM2 signatures,
// SM3 hashes). Everything that hashes or signs goes through a Suite so that
// the choice is made once, at genesis, and never mixed.
package suite

import "io"

// Names of the suites, as written in genesis and network.json.
const (
	Ed25519 = "ed25519"
	SM2     = "sm2"
)

// Suite is one crypto suite. Implementations must be deterministic in Hash and
// Verify: every node must agree on every signature.
type Suite interface {
	// Name is "ed25519" or "sm2"; it is also the key and signature alg.
	Name() string
	// JWSAlg is the JWS "alg" header value: "Ed25519" or "SM2".
	JWSAlg() string
	// Hash returns the suite's digest (32 bytes) of data.
	Hash(data []byte) []byte
	// GenerateKey makes a new key pair from rand.
	GenerateKey(rand io.Reader) (*PrivateKey, error)
	// Sign signs msg with priv.
	Sign(priv *PrivateKey, msg []byte) ([]byte, error)
	// Verify reports whether sig is a valid signature of msg under the raw public key pub.
	Verify(pub, msg, sig []byte) bool
}

// PrivateKey holds a key pair in the contract's raw encodings (DESIGN 9.6):
// Ed25519 public = 32 raw bytes, private = 32-byte seed; SM2 public = 65-byte
// uncompressed point, private = 32-byte scalar.
type PrivateKey struct {
	Alg     string
	Public  []byte
	Private []byte
}

// SignedMessage is one signature to check: Sig over Message under the raw
// public key Public.
type SignedMessage struct {
	Public, Message, Sig []byte
}

// batchVerifier is implemented by suites that check many signatures faster
// together than one by one, under the same rule as Verify.
type batchVerifier interface {
	verifyBatch(items []SignedMessage) []bool
}

// VerifyAll reports for each item whether its signature is valid under s:
// exactly what s.Verify says of it, computed in one batch where the suite
// can.
func VerifyAll(s Suite, items []SignedMessage) []bool {
	if bv, ok := s.(batchVerifier); ok {
		return bv.verifyBatch(items)
	}
	ok := make([]bool, len(items))
	for i, it := range items {
		ok[i] = s.Verify(it.Public, it.Message, it.Sig)
	}
	return ok
}
