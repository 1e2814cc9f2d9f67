package txn

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/suite"
)

func signedVector(t *testing.T, alg string) (*Envelope, suite.Suite, *suite.PrivateKey) {
	t.Helper()
	s, err := suite.ByName(alg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEnvelope([]byte(vectorEnvelope))
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(e, s, k, suite.KeyID(alg, k.Public)); err != nil {
		t.Fatal(err)
	}
	return e, s, k
}

func wantBadSignature(t *testing.T, err error) {
	t.Helper()
	ae, ok := apierr.As(err)
	if !ok || ae.Status != 401 || ae.Code != "bad_signature" {
		t.Fatalf("got %v, want 401 bad_signature", err)
	}
}

func TestSignVerify(t *testing.T) {
	for _, alg := range []string{suite.Ed25519, suite.SM2} {
		t.Run(alg, func(t *testing.T) {
			e, s, k := signedVector(t, alg)
			if err := e.VerifySignature(s, k.Public); err != nil {
				t.Fatal(err)
			}
			// The canonical form decodes back to an equal envelope.
			c, err := e.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeEnvelope(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.VerifySignature(s, k.Public); err != nil {
				t.Fatal(err)
			}
			c2, _ := back.Canonical()
			if string(c) != string(c2) {
				t.Fatal("canonical form is not stable")
			}

			other, _ := s.GenerateKey(rand.Reader)
			wantBadSignature(t, e.VerifySignature(s, other.Public))

			changed := *e
			changed.Nonce = e.Nonce + "x"
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			changed = *e
			changed.Payload = json.RawMessage(`{"record_id":"x"}`)
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			changed = *e
			changed.Sig = &Signature{Alg: alg, KeyID: e.Sig.KeyID, Value: flipChar(e.Sig.Value, 10)}
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			changed = *e
			changed.Sig = &Signature{Alg: alg, KeyID: e.Sig.KeyID, Value: e.Sig.Value + "="}
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			changed = *e
			changed.Sig = &Signature{Alg: alg, KeyID: "0000000000000000", Value: e.Sig.Value}
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			changed = *e
			changed.Sig = nil
			wantBadSignature(t, changed.VerifySignature(s, k.Public))

			otherSuite, _ := suite.ByName(map[string]string{suite.Ed25519: suite.SM2, suite.SM2: suite.Ed25519}[alg])
			wantBadSignature(t, e.VerifySignature(otherSuite, k.Public))

			if err := Sign(e, otherSuite, k, "0000000000000000"); err == nil {
				t.Fatal("signed with a key of another suite")
			}
		})
	}
}

func TestIDIgnoresSignatureAndFormatting(t *testing.T) {
	e, s, _ := signedVector(t, suite.Ed25519)
	id, err := e.ID(s)
	if err != nil || id != vectorEd25519TxID {
		t.Fatalf("id %s %v", id, err)
	}
	// Member order and whitespace in the payload do not change the id.
	e.Payload = json.RawMessage(vectorPayload())
	if id2, _ := e.ID(s); id2 != id {
		t.Fatal("payload formatting changed the id")
	}
	// HTML-sensitive characters are not escaped in canonical bytes.
	e.Chain = "a<b>&c"
	sb, _ := e.SigningBytes()
	if !json.Valid(sb) || !bytes.Contains(sb, []byte(`"chain":"a<b>&c"`)) {
		t.Fatalf("signing bytes %s", sb)
	}
}

// flipChar changes the character at i to another base64url character.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
