package txn

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/creditchain/creditchain/pkg/canonjson"
)

// appendCanonical appends the JCS bytes of e (with or without its
// signature). The envelope's own members are fixed strings, so they are
// written directly in JCS member order (chain, created_at, nonce, payload,
// sig, submitter, type; inside sig: alg, key_id, value) rather than
// marshaled and re-parsed; only the payload goes through the JCS parser.
// canonical_test.go checks this against jcs.Transform of json.Marshal.
func (e *Envelope) appendCanonical(dst []byte, withSig bool) ([]byte, error) {
	if len(e.Payload) == 0 {
		return nil, errors.New("canonicalizing envelope: no payload")
	}
	payload := e.canonPayload
	if payload == nil || !bytes.Equal(payload, e.Payload) {
		var err error
		if payload, err = canonjson.Transform(e.Payload); err != nil {
			return nil, fmt.Errorf("canonicalizing envelope payload: %w", err)
		}
	}
	var bad error
	str := func(name, s string) {
		dst = append(dst, name...)
		if !utf8.ValidString(s) {
			bad = fmt.Errorf("canonicalizing envelope: %s is not valid UTF-8", name)
		}
		dst = appendJCSString(dst, s)
	}
	str(`{"chain":`, e.Chain)
	str(`,"created_at":`, e.CreatedAt)
	str(`,"nonce":`, e.Nonce)
	dst = append(dst, `,"payload":`...)
	dst = append(dst, payload...)
	if withSig && e.Sig != nil {
		str(`,"sig":{"alg":`, e.Sig.Alg)
		str(`,"key_id":`, e.Sig.KeyID)
		str(`,"value":`, e.Sig.Value)
		dst = append(dst, '}')
	}
	str(`,"submitter":`, e.Submitter)
	str(`,"type":`, e.Type)
	dst = append(dst, '}')
	if bad != nil {
		return nil, bad
	}
	return dst, nil
}

// appendJCSString appends s as a JSON string the way RFC 8785 serializes
// it (ECMAScript JSON.stringify): '"' and '\' escaped, the five short
// control escapes, other control characters as \u00xx in lowercase hex,
// everything else (including U+2028, '<', '&') literal.
func appendJCSString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return append(dst, '"')
}
