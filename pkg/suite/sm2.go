package suite

//lint:file-ignore SA1019 gmsm's SM2 verifier takes an ecdsa.PublicKey with raw coordinates (see sm2PublicKey)

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// sm2Suite signs with SM2 (GB/T 32918.2-2016) and hashes with SM3.
//
// Signing follows GM/T 0009-2012: the message is hashed as
// SM3(Z_A || msg) with Z_A computed over the default user id
// "1234567812345678" (16 ASCII bytes) and the signer's public key.
//
// Signatures are encoded as raw r||s, each a 32-byte big-endian integer
// (64 bytes in all), the same shape JWS uses for elliptic-curve signatures.
// A fixed-length encoding leaves no room for alternative DER encodings of the
// same signature, and is easy to produce from any language.
type sm2Suite struct{}

// SM2SignatureSize is the length of an encoded SM2 signature (r||s).
const SM2SignatureSize = 64

func (sm2Suite) Name() string   { return SM2 }
func (sm2Suite) JWSAlg() string { return "SM2" }

func (sm2Suite) Hash(data []byte) []byte {
	h := sm3.Sum(data)
	return h[:]
}

func (sm2Suite) GenerateKey(r io.Reader) (*PrivateKey, error) {
	k, err := sm2.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("sm2: generating key: %w", err)
	}
	d := k.D.FillBytes(make([]byte, 32))
	if err := checkSM2Scalar(d); err != nil {
		// GenerateKey may return d = n-1, for which SM2 signing is
		// undefined; ask for another key rather than hand out a dud.
		return nil, err
	}
	return &PrivateKey{Alg: SM2, Public: sm2Point(k.X, k.Y), Private: d}, nil
}

func sm2Point(x, y *big.Int) []byte {
	p := make([]byte, 65)
	p[0] = 4
	x.FillBytes(p[1:33])
	y.FillBytes(p[33:])
	return p
}

// sm2NMinus1 is n-1 for the SM2 curve order n: SM2 needs 1+d invertible mod n.
var sm2NMinus1 = new(big.Int).Sub(sm2.P256().Params().N, big.NewInt(1))

func checkSM2Scalar(d []byte) error {
	if len(d) != 32 {
		return fmt.Errorf("sm2: private key is %d bytes, want 32", len(d))
	}
	v := new(big.Int).SetBytes(d)
	if v.Sign() == 0 || v.Cmp(sm2NMinus1) >= 0 {
		return errors.New("sm2: private key out of range [1, n-2]")
	}
	return nil
}

func sm2PrivateKey(priv *PrivateKey) (*sm2.PrivateKey, error) {
	if err := checkPrivate(SM2, priv); err != nil {
		return nil, err
	}
	ek, err := ecdh.P256().NewPrivateKey(priv.Private)
	if err != nil {
		return nil, fmt.Errorf("sm2: private key: %w", err)
	}
	if !bytes.Equal(ek.PublicKey().Bytes(), priv.Public) {
		return nil, errors.New("sm2: public key does not match the private key")
	}
	k := new(sm2.PrivateKey)
	k.Curve = sm2.P256()
	k.D = new(big.Int).SetBytes(priv.Private)
	k.X = new(big.Int).SetBytes(priv.Public[1:33])
	k.Y = new(big.Int).SetBytes(priv.Public[33:])
	return k, nil
}

func sm2PublicKey(pub []byte) (*ecdsa.PublicKey, error) {
	if len(pub) != 65 {
		return nil, fmt.Errorf("sm2: public key is %d bytes, want 65", len(pub))
	}
	// NewPublicKey rejects compressed points, infinity and off-curve points.
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return nil, fmt.Errorf("sm2: public key: %w", err)
	}
	// gmsm's SM2 verifier takes an ecdsa.PublicKey with raw coordinates;
	// the Go 1.26 replacements (ecdsa.ParseUncompressedPublicKey) know
	// only the NIST curves. The point was validated just above.
	return &ecdsa.PublicKey{
		Curve: sm2.P256(),
		X:     new(big.Int).SetBytes(pub[1:33]),
		Y:     new(big.Int).SetBytes(pub[33:]),
	}, nil
}

func (sm2Suite) Sign(priv *PrivateKey, msg []byte) ([]byte, error) {
	k, err := sm2PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	// A nil uid with forceGMSign selects the GM/T 0009 default uid.
	der, err := k.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
	if err != nil {
		return nil, fmt.Errorf("sm2: signing: %w", err)
	}
	return sm2DERToRaw(der)
}

func (sm2Suite) Verify(pub, msg, sig []byte) bool {
	if len(sig) != SM2SignatureSize {
		return false
	}
	pk, err := sm2PublicKey(pub)
	if err != nil {
		return false
	}
	der, err := sm2RawToDER(sig)
	if err != nil {
		return false
	}
	return sm2.VerifyASN1WithSM2(pk, nil, msg, der)
}

func sm2DERToRaw(der []byte) ([]byte, error) {
	var r, s []byte
	var inner cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return nil, errors.New("sm2: signer returned a malformed signature")
	}
	out := make([]byte, SM2SignatureSize)
	if err := putScalar(out[:32], r); err != nil {
		return nil, err
	}
	if err := putScalar(out[32:], s); err != nil {
		return nil, err
	}
	return out, nil
}

// putScalar writes the big-endian integer v (possibly with a leading zero
// byte from DER) right-aligned into dst.
func putScalar(dst, v []byte) error {
	v = bytes.TrimLeft(v, "\x00")
	if len(v) > len(dst) {
		return errors.New("sm2: signature scalar too large")
	}
	copy(dst[len(dst)-len(v):], v)
	return nil
}

func sm2RawToDER(sig []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[:32]))
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[32:]))
	})
	return b.Bytes()
}
