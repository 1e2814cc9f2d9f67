package txn

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Signature is an envelope's signature: the signer's alg and key id, and the
// signature over the signing bytes in base64url without padding.
type Signature struct {
	Alg   string `json:"alg"`
	KeyID string `json:"key_id"`
	Value string `json:"value"`
}

// Envelope is a transaction (DESIGN 9.3).
type Envelope struct {
	Chain     string          `json:"chain"`
	Type      string          `json:"type"`
	Submitter string          `json:"submitter"`
	Nonce     string          `json:"nonce"`
	CreatedAt string          `json:"created_at"`
	Payload   json.RawMessage `json:"payload"`
	Sig       *Signature      `json:"sig,omitempty"`

	// canonPayload is the payload's JCS form as known at decoding. While
	// Payload still holds exactly these bytes, canonicalizing the envelope
	// (for its id, its signature and its Merkle leaf) reuses them instead of
	// running the JCS parser again: that was a fifth of a node's CPU.
	canonPayload []byte
}

// sigEncoding is base64url without padding. Strict decoding rejects
// non-zero trailing bits, so one signature has exactly one text form and
// the canonical leaf bytes cannot be varied without changing the signature.
var sigEncoding = base64.RawURLEncoding.Strict()

// SigningBytes returns the JCS (RFC 8785) bytes of the envelope without its
// signature: what the submitter signs and what the tx id hashes.
func (e *Envelope) SigningBytes() ([]byte, error) {
	return e.appendCanonical(make([]byte, 0, 256+len(e.Payload)), false)
}

// Canonical returns the JCS bytes of the full envelope, signature included:
// the ledger's Merkle leaf for this transaction.
func (e *Envelope) Canonical() ([]byte, error) {
	return e.appendCanonical(make([]byte, 0, 384+len(e.Payload)), true)
}

// ID is the transaction id: the lowercase hex hash of the signing bytes
// under suite s.
func (e *Envelope) ID(s suite.Suite) (string, error) {
	b, err := e.SigningBytes()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(s.Hash(b)), nil
}

// Sign signs e with k under suite s and sets e.Sig. keyID names k among the
// submitter's keys.
func Sign(e *Envelope, s suite.Suite, k *suite.PrivateKey, keyID string) error {
	if k == nil || k.Alg != s.Name() {
		return fmt.Errorf("signing envelope: key is not a %s key", s.Name())
	}
	b, err := e.SigningBytes()
	if err != nil {
		return err
	}
	sig, err := s.Sign(k, b)
	if err != nil {
		return fmt.Errorf("signing envelope: %w", err)
	}
	e.Sig = &Signature{Alg: s.Name(), KeyID: keyID, Value: sigEncoding.EncodeToString(sig)}
	return nil
}

// VerifySignature checks e.Sig against the raw public key pub under suite s.
// It fails with a 401 bad_signature *apierr.Error when the signature is
// missing, names another alg or another key, or does not verify.
func (e *Envelope) VerifySignature(s suite.Suite, pub []byte) error {
	msg, sig, err := e.SignatureInput(s, pub)
	if err != nil {
		return err
	}
	if !s.Verify(pub, msg, sig) {
		return apierr.New(401, "bad_signature", "signature does not verify under key %s", e.Sig.KeyID)
	}
	return nil
}

// SignatureInput returns what a signature check of e under pub verifies:
// the signing bytes and the decoded signature, after the checks that need
// no cryptography (VerifySignature's errors). Block validation collects
// these to check a block's signatures in batches.
func (e *Envelope) SignatureInput(s suite.Suite, pub []byte) (msg, sig []byte, err error) {
	if e.Sig == nil {
		return nil, nil, apierr.New(401, "bad_signature", "the transaction is not signed")
	}
	if e.Sig.Alg != s.Name() {
		return nil, nil, apierr.New(401, "bad_signature", "signature alg %q, the chain uses %q", e.Sig.Alg, s.Name())
	}
	if want := suite.KeyID(s.Name(), pub); e.Sig.KeyID != want {
		return nil, nil, apierr.New(401, "bad_signature", "signature names key %q, the key given is %q", e.Sig.KeyID, want)
	}
	sig, err = sigEncoding.DecodeString(e.Sig.Value)
	if err != nil {
		return nil, nil, apierr.New(401, "bad_signature", "signature value is not base64url without padding")
	}
	msg, err = e.SigningBytes()
	if err != nil {
		return nil, nil, apierr.Malformed("envelope cannot be canonicalized: %v", err)
	}
	return msg, sig, nil
}
