package cert

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gowebpki/jcs"

	"github.com/creditchain/creditchain/pkg/suite"
)

// TypJWS is the JWS "typ" of a credential secured with JOSE (VC-JOSE-COSE).
const TypJWS = "vc+jwt"

// b64 is base64url without padding (RFC 7515 §2). Strict decoding refuses
// non-zero trailing bits, so a JWS has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// Header is the JWS protected header. Its members are written in this
// order, exactly {"alg":"Ed25519","typ":"vc+jwt","kid":"<key id>"}.
type Header struct {
	Alg string `json:"alg"` // RFC 9864 "Ed25519", or "SM2"
	Typ string `json:"typ"`
	Kid string `json:"kid"` // the issuer's key_id
}

// Certificate is a signed certificate.
type Certificate struct {
	CertNo     string
	JWS        string // compact serialization, ASCII
	Hash       string // hex suite hash of the JWS bytes: certificate.issue's cert_hash
	Credential *Credential
}

// Sign secures cred as a compact JWS with the issuer's key k, whose key id
// is kid. The payload is the JCS form of the credential, so that every
// signer produces the same bytes for the same facts (and, Ed25519 being
// deterministic, the same JWS).
func Sign(s suite.Suite, cred *Credential, k *suite.PrivateKey, kid string) (*Certificate, error) {
	if k == nil || k.Alg != s.Name() {
		return nil, fmt.Errorf("cert: sign: the issuer key is not a %s key", s.Name())
	}
	if want := suite.KeyID(k.Alg, k.Public); kid != want {
		return nil, fmt.Errorf("cert: sign: key id %q does not match the key (%q)", kid, want)
	}
	no := cred.CertNo()
	if !ValidCertNo(no) {
		return nil, fmt.Errorf("cert: sign: credential id %q holds no certificate number", cred.ID)
	}
	hdr, err := json.Marshal(Header{Alg: s.JWSAlg(), Typ: TypJWS, Kid: kid})
	if err != nil {
		return nil, fmt.Errorf("cert: sign: %w", err)
	}
	body, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("cert: sign: encoding credential: %w", err)
	}
	payload, err := jcs.Transform(body)
	if err != nil {
		return nil, fmt.Errorf("cert: sign: canonicalizing credential: %w", err)
	}
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	sig, err := s.Sign(k, []byte(input))
	if err != nil {
		return nil, fmt.Errorf("cert: sign: %w", err)
	}
	jws := input + "." + b64.EncodeToString(sig)
	return &Certificate{CertNo: no, JWS: jws, Hash: Hash(s, jws), Credential: cred}, nil
}

// Hash is the hex suite hash of a compact JWS's ASCII bytes, the cert_hash
// that certificate.issue anchors on the ledger.
func Hash(s suite.Suite, jws string) string {
	return hex.EncodeToString(s.Hash([]byte(jws)))
}

// compact is a parsed compact JWS.
type compact struct {
	header  Header
	input   string // ASCII "<header>.<payload>": what the signature covers
	payload []byte
	sig     []byte
}

// parseCompact splits and decodes a compact JWS. The protected header must
// have exactly alg, typ and kid: any other member (crit, b64, jku, ...)
// could change how the signature is meant to be checked, so it is refused
// rather than ignored.
func parseCompact(jws string) (*compact, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS: %d parts separated by '.', want 3", len(parts))
	}
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("protected header is not base64url without padding")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url without padding")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature is not base64url without padding")
	}
	c := &compact{input: parts[0] + "." + parts[1], payload: payload, sig: sig}
	if c.header, err = decodeHeader(hdr); err != nil {
		return nil, fmt.Errorf("protected header: %v", err)
	}
	if c.header.Typ != TypJWS {
		return nil, fmt.Errorf("protected header typ %q, want %q", c.header.Typ, TypJWS)
	}
	if c.header.Kid == "" {
		return nil, fmt.Errorf("protected header has no kid")
	}
	return c, nil
}

// decodeHeader reads the protected header as a flat object of strings with
// exactly the members alg, typ and kid, each once and spelled exactly
// (encoding/json alone would accept "ALG" or a repeated "alg").
func decodeHeader(data []byte) (Header, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return Header{}, fmt.Errorf("not a JSON object")
	}
	got := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return Header{}, err
		}
		v, err := dec.Token()
		if err != nil {
			return Header{}, err
		}
		name, _ := k.(string)
		val, ok := v.(string)
		switch {
		case name != "alg" && name != "typ" && name != "kid":
			return Header{}, fmt.Errorf("unsupported member %q (only alg, typ and kid)", name)
		case !ok:
			return Header{}, fmt.Errorf("member %q is not a string", name)
		}
		if _, dup := got[name]; dup {
			return Header{}, fmt.Errorf("member %q appears twice", name)
		}
		got[name] = val
	}
	if _, err := dec.Token(); err != nil {
		return Header{}, err
	}
	if _, err := dec.Token(); err == nil {
		return Header{}, fmt.Errorf("trailing data after the object")
	}
	return Header{Alg: got["alg"], Typ: got["typ"], Kid: got["kid"]}, nil
}

// Parse decodes a compact JWS certificate without verifying anything: for
// showing what a document claims (its number, its issuer key) before or
// beside Verify. Never trust what it returns.
func Parse(jws string) (Header, *Credential, error) {
	c, err := parseCompact(jws)
	if err != nil {
		return Header{}, nil, fmt.Errorf("cert: %w", err)
	}
	var cred Credential
	if err := json.Unmarshal(c.payload, &cred); err != nil {
		return c.header, nil, fmt.Errorf("cert: payload is not a credential: %w", err)
	}
	return c.header, &cred, nil
}
