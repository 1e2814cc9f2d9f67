package txn

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditchain/creditchain/pkg/apierr"
)

// Nonce bounds, in characters.
const (
	MinNonceLen = 16
	MaxNonceLen = 128
)

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// DecodeEnvelope strictly decodes one envelope. Any defect is a 400
// malformed *apierr.Error that names the member at fault. The signature is
// optional here (an envelope may be decoded before signing); a submission
// requires it (DecodeSubmission). The payload is kept in canonical form.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	c, aerr := canonicalize(data, "tx")
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := decodeEnvelope(c, "tx")
	if aerr != nil {
		return nil, aerr
	}
	return e, nil
}

// decodeEnvelope decodes the canonical JSON c of an envelope.
func decodeEnvelope(c []byte, path string) (*Envelope, *apierr.Error) {
	var e Envelope
	if err := decodeStrict(c, &e, path); err != nil {
		return nil, err
	}
	if err := checkEnvelope(&e, path); err != nil {
		return nil, err
	}
	// c is canonical, so the payload inside it is too.
	e.canonPayload = bytes.Clone(e.Payload)
	return &e, nil
}

// checkEnvelope checks the envelope's own members (not the payload's).
func checkEnvelope(e *Envelope, path string) *apierr.Error {
	if e.Chain == "" {
		return apierr.Malformed("%s.chain: empty", path)
	}
	if !KnownType(e.Type) {
		return apierr.Malformed("%s.type: unknown transaction type %q (known: %s)", path, e.Type, strings.Join(Types, ", "))
	}
	if e.Submitter == "" {
		return apierr.Malformed("%s.submitter: empty", path)
	}
	if n := utf8.RuneCountInString(e.Nonce); n < MinNonceLen || n > MaxNonceLen {
		return apierr.Malformed("%s.nonce: %d characters, want %d to %d", path, n, MinNonceLen, MaxNonceLen)
	}
	if _, err := ParseTime(e.CreatedAt); err != nil {
		return apierr.Malformed("%s.created_at: %v", path, err)
	}
	if len(e.Payload) == 0 || e.Payload[0] != '{' {
		return apierr.Malformed("%s.payload: must be an object", path)
	}
	if e.Sig != nil {
		if !oneOf(e.Sig.Alg, SigAlgs...) {
			return apierr.Malformed("%s.sig.alg: unknown alg %q (want ed25519 or sm2)", path, e.Sig.Alg)
		}
		if !keyIDPattern.MatchString(e.Sig.KeyID) {
			return apierr.Malformed("%s.sig.key_id: want 16 lowercase hex characters", path)
		}
		if b, err := sigEncoding.DecodeString(e.Sig.Value); err != nil || len(b) == 0 {
			return apierr.Malformed("%s.sig.value: want non-empty base64url without padding", path)
		}
	}
	return nil
}

// Submission is the body of POST /v1/transactions: a signed envelope and,
// for a person subject, the personal sidecar.
type Submission struct {
	Tx       *Envelope `json:"tx"`
	Personal *Personal `json:"personal,omitempty"`
	// Payload is Tx's payload, decoded by DecodeSubmission (a pointer to the
	// payload struct of Tx.Type). It is not part of the body.
	Payload any `json:"-"`
}

// DecodeSubmission strictly decodes a POST /v1/transactions body: the
// envelope (which must be signed), its payload's shape, and the sidecar's
// shape. Field checks that need the time or the suite are Validate's.
func DecodeSubmission(data []byte) (*Submission, *apierr.Error) {
	c, err := canonicalize(data, bodyPath)
	if err != nil {
		return nil, err
	}
	var s Submission
	if err := decodeStrict(c, &s, bodyPath); err != nil {
		return nil, err
	}
	if err := checkEnvelope(s.Tx, "tx"); err != nil {
		return nil, err
	}
	if s.Tx.Sig == nil {
		return nil, apierr.Malformed("tx.sig: missing member (a submission must be signed)")
	}
	// The payload is a member of the canonical body, so already canonical.
	p, aerr := decodeCanonicalPayload(s.Tx.Type, s.Tx.Payload)
	if aerr != nil {
		return nil, aerr
	}
	s.Payload = p
	return &s, nil
}

// DecodePayload strictly decodes the payload of a txType transaction into a
// pointer to its struct (*RecordCreate for record.create, ...). It checks
// shape only: Validate checks the values.
func DecodePayload(txType string, raw json.RawMessage) (any, error) {
	p, aerr := decodePayload(txType, raw)
	if aerr != nil {
		return nil, aerr
	}
	return p, nil
}

func decodePayload(txType string, raw json.RawMessage) (any, *apierr.Error) {
	if !KnownType(txType) {
		return nil, apierr.Malformed("unknown transaction type %q", txType)
	}
	c, aerr := canonicalize(raw, "payload")
	if aerr != nil {
		return nil, aerr
	}
	return decodeCanonicalPayload(txType, c)
}

func decodeCanonicalPayload(txType string, c []byte) (any, *apierr.Error) {
	mk, ok := payloadTypes[txType]
	if !ok {
		return nil, apierr.Malformed("unknown transaction type %q", txType)
	}
	p := mk()
	if err := decodeStrict(c, p, "payload"); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckFreshness reports a created_at outside now ± window as 400
// stale_timestamp (a created_at that does not parse is malformed).
func CheckFreshness(e *Envelope, now time.Time, window time.Duration) *apierr.Error {
	t, err := ParseTime(e.CreatedAt)
	if err != nil {
		return apierr.Malformed("tx.created_at: %v", err)
	}
	if d := t.Sub(now); d > window || d < -window {
		return apierr.New(400, "stale_timestamp", "tx.created_at %s is %s from the intake clock %s; allowed ±%s",
			e.CreatedAt, d.Round(time.Second), FormatTime(now), window)
	}
	return nil
}
