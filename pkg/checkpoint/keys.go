package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/creditchain/creditchain/pkg/suite"
)

// Signature type bytes (C2SP signed-note).
const (
	algEd25519 = 0x01
	algOther   = 0xff
)

// sm2Type follows 0xff in an SM2 key encoding; see the package comment.
const sm2Type = "creditchain/sm2"

// encodeKey returns the signed-note key encoding (type bytes || public key).
func encodeKey(alg string, pub []byte) ([]byte, error) {
	if err := suite.CheckPublicKey(alg, pub); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	switch alg {
	case suite.Ed25519:
		return append([]byte{algEd25519}, pub...), nil
	case suite.SM2:
		return append(append([]byte{algOther}, sm2Type...), pub...), nil
	}
	return nil, fmt.Errorf("checkpoint: no signed-note encoding for alg %q", alg)
}

// keyHash is the C2SP key id: SHA-256(name || "\n" || encoded key)[:4].
func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// checkName applies the signed-note key name rules: non-empty UTF-8 without
// spaces or "+". A USCC (18 digits and capital letters) always passes.
func checkName(name string) error {
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, "+") {
		return fmt.Errorf("checkpoint: %q is not a valid signed-note key name", name)
	}
	return nil
}

// VerifierKey returns the signed-note verifier key
// "<name>+<hex key id>+<base64(type || public key)>" of a member key.
func VerifierKey(name string, alg string, pub []byte) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	key, err := encodeKey(alg, pub)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, key), base64.StdEncoding.EncodeToString(key)), nil
}

// NewVerifier parses a verifier key from VerifierKey (or any standard
// Ed25519 signed-note key).
func NewVerifier(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) == 0 || len(hash16) != 8 {
		return nil, fmt.Errorf("checkpoint: malformed verifier key %q", vkey)
	}
	if key[0] == algEd25519 {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: verifier key %q: %w", vkey, err)
		}
		return v, nil
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: verifier key %q: key id: %w", vkey, err)
	}
	if uint32(hash) != keyHash(name, key) {
		return nil, fmt.Errorf("checkpoint: verifier key %q: key id does not match the key", vkey)
	}
	prefix := append([]byte{algOther}, sm2Type...)
	if !bytes.HasPrefix(key, prefix) {
		return nil, fmt.Errorf("checkpoint: verifier key %q: unknown signature type", vkey)
	}
	pub := key[len(prefix):]
	if err := suite.CheckPublicKey(suite.SM2, pub); err != nil {
		return nil, fmt.Errorf("checkpoint: verifier key %q: %w", vkey, err)
	}
	s, err := suite.ByName(suite.SM2)
	if err != nil {
		return nil, err
	}
	return &verifier{name: name, hash: uint32(hash), verify: func(msg, sig []byte) bool {
		return s.Verify(pub, msg, sig)
	}}, nil
}

type verifier struct {
	name   string
	hash   uint32
	verify func(msg, sig []byte) bool
}

func (v *verifier) Name() string                { return v.name }
func (v *verifier) KeyHash() uint32             { return v.hash }
func (v *verifier) Verify(msg, sig []byte) bool { return v.verify(msg, sig) }

// NewSigner returns a signed-note signer named name (the institution id) for
// a member's private key under suite s.
func NewSigner(name string, s suite.Suite, k *suite.PrivateKey) (note.Signer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if k == nil || k.Alg != s.Name() {
		return nil, fmt.Errorf("checkpoint: signer %s: key is not a %s key", name, s.Name())
	}
	if err := k.Check(); err != nil {
		return nil, fmt.Errorf("checkpoint: signer %s: %w", name, err)
	}
	key, err := encodeKey(k.Alg, k.Public)
	if err != nil {
		return nil, err
	}
	return &signer{name: name, hash: keyHash(name, key), sign: func(msg []byte) ([]byte, error) {
		return s.Sign(k, msg)
	}}, nil
}

type signer struct {
	name string
	hash uint32
	sign func(msg []byte) ([]byte, error)
}

func (s *signer) Name() string                    { return s.name }
func (s *signer) KeyHash() uint32                 { return s.hash }
func (s *signer) Sign(msg []byte) ([]byte, error) { return s.sign(msg) }
