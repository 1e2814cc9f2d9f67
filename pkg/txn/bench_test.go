package txn

import (
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

func benchEnvelope(b *testing.B) *Envelope {
	e, err := DecodeEnvelope([]byte(vectorEd25519Canonical))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkEnvelopeID is canonicalization plus hashing: the tx id.
func BenchmarkEnvelopeID(b *testing.B) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		s, _ := suite.ByName(name)
		e := benchEnvelope(b)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.ID(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeSubmission(b *testing.B) {
	body := []byte(`{"tx":` + vectorEd25519Canonical + `}`)
	for b.Loop() {
		if _, err := DecodeSubmission(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignEnvelope(b *testing.B) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		s, _ := suite.ByName(name)
		k, err := s.GenerateKey(fixedReader{})
		if err != nil {
			b.Fatal(err)
		}
		e := benchEnvelope(b)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := Sign(e, s, k, "0000000000000000"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyEnvelope(b *testing.B) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		s, _ := suite.ByName(name)
		k, err := s.GenerateKey(fixedReader{})
		if err != nil {
			b.Fatal(err)
		}
		e := benchEnvelope(b)
		if err := Sign(e, s, k, suite.KeyID(name, k.Public)); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := e.VerifySignature(s, k.Public); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fixedReader yields a fixed (non-zero) byte stream so benchmarks use stable keys.
type fixedReader struct{}

func (fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}
