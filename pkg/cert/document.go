package cert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// envelopedPrefix is how VC-JOSE-COSE wraps a JWS-secured credential in an
// EnvelopedVerifiableCredential's id.
const envelopedPrefix = "data:application/vc+jwt,"

// ReadJWS finds the compact JWS in a certificate document: the JWS text
// itself (surrounding white space ignored), a JSON object with a "jws"
// member (as GET /v1/certificates/{cert_no} and the self-service answer
// return it), or an EnvelopedVerifiableCredential whose id is
// "data:application/vc+jwt,<jws>". A bare credential JSON carries no
// signature and cannot be verified; it is refused with that reason.
func ReadJWS(data []byte) (string, error) {
	text := strings.TrimSpace(string(data))
	if !strings.HasPrefix(text, "{") {
		if text == "" {
			return "", fmt.Errorf("cert: empty document")
		}
		return text, nil
	}
	var doc struct {
		JWS *string         `json:"jws"`
		ID  string          `json:"id"`
		CS  json.RawMessage `json:"credentialSubject"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("cert: document is neither a compact JWS nor JSON: %w", err)
	}
	switch {
	case doc.JWS != nil:
		return strings.TrimSpace(*doc.JWS), nil
	case strings.HasPrefix(doc.ID, envelopedPrefix):
		return doc.ID[len(envelopedPrefix):], nil
	case doc.CS != nil:
		return "", fmt.Errorf("cert: a bare credential JSON carries no signature; verify its compact JWS (the .jws file, or the PDF's certificate.jws)")
	}
	return "", fmt.Errorf(`cert: JSON document has no "jws" member and is not an EnvelopedVerifiableCredential`)
}

// Enveloped wraps a compact JWS as a VC 2.0 EnvelopedVerifiableCredential,
// for JSON-LD consumers that want a credential object.
func Enveloped(jws string) map[string]any {
	return map[string]any{
		"@context": []string{ContextV2},
		"id":       envelopedPrefix + jws,
		"type":     "EnvelopedVerifiableCredential",
	}
}
