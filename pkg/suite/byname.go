package suite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/emmansun/gmsm/sm3"
)

// ByName returns the suite called name ("ed25519" or "sm2").
func ByName(name string) (Suite, error) {
	switch name {
	case Ed25519:
		return ed25519Suite{}, nil
	case SM2:
		return sm2Suite{}, nil
	}
	return nil, fmt.Errorf("suite: unknown crypto suite %q (want %q or %q)", name, Ed25519, SM2)
}

// KeyID is the contract key id (DESIGN 9.6): the first 16 lowercase hex
// characters of hash(alg + ":" + pub), hashed with the suite that alg names.
// An unknown alg has no key id and yields "", which matches no real key.
func KeyID(alg string, pub []byte) string {
	msg := make([]byte, 0, len(alg)+1+len(pub))
	msg = append(msg, alg...)
	msg = append(msg, ':')
	msg = append(msg, pub...)
	var sum []byte
	switch alg {
	case Ed25519:
		h := sha256.Sum256(msg)
		sum = h[:]
	case SM2:
		h := sm3.Sum(msg)
		sum = h[:]
	default:
		return ""
	}
	return hex.EncodeToString(sum[:8])
}
