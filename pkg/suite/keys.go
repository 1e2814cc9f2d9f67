package suite

import (
	"crypto/ed25519"
	"fmt"
)

// Key sizes of the contract encodings (DESIGN 9.6).
const (
	Ed25519PublicSize  = ed25519.PublicKeySize // raw point
	Ed25519PrivateSize = ed25519.SeedSize      // seed
	SM2PublicSize      = 65                    // uncompressed point 04||X||Y
	SM2PrivateSize     = 32                    // scalar
)

// CheckPublicKey reports whether pub is a well-formed public key for alg: the
// right size and, for SM2, a point on the curve.
func CheckPublicKey(alg string, pub []byte) error {
	switch alg {
	case Ed25519:
		if len(pub) != Ed25519PublicSize {
			return fmt.Errorf("ed25519: public key is %d bytes, want %d", len(pub), Ed25519PublicSize)
		}
		return nil
	case SM2:
		_, err := sm2PublicKey(pub)
		return err
	}
	return fmt.Errorf("suite: unknown key alg %q", alg)
}

// Check reports whether k is a usable key pair: known alg, right sizes, and a
// public key that belongs to the private key.
func (k *PrivateKey) Check() error {
	if k == nil {
		return fmt.Errorf("suite: nil private key")
	}
	switch k.Alg {
	case Ed25519:
		if err := checkPrivate(Ed25519, k); err != nil {
			return err
		}
		if want := ed25519FromSeed(k.Private).Public; string(want) != string(k.Public) {
			return fmt.Errorf("ed25519: public key does not match the seed")
		}
		return nil
	case SM2:
		_, err := sm2PrivateKey(k)
		return err
	}
	return fmt.Errorf("suite: unknown key alg %q", k.Alg)
}

// checkPrivate checks alg and sizes of priv for a suite named alg.
func checkPrivate(alg string, priv *PrivateKey) error {
	if priv == nil {
		return fmt.Errorf("%s: nil private key", alg)
	}
	if priv.Alg != alg {
		return fmt.Errorf("%s: key alg is %q", alg, priv.Alg)
	}
	switch alg {
	case Ed25519:
		if len(priv.Private) != Ed25519PrivateSize {
			return fmt.Errorf("ed25519: seed is %d bytes, want %d", len(priv.Private), Ed25519PrivateSize)
		}
		if len(priv.Public) != Ed25519PublicSize {
			return fmt.Errorf("ed25519: public key is %d bytes, want %d", len(priv.Public), Ed25519PublicSize)
		}
	case SM2:
		if err := checkSM2Scalar(priv.Private); err != nil {
			return err
		}
		if len(priv.Public) != SM2PublicSize {
			return fmt.Errorf("sm2: public key is %d bytes, want %d", len(priv.Public), SM2PublicSize)
		}
	}
	return nil
}
