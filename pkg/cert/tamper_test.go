package cert

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/suite"
)

// resign signs payload as the issuer would, so that a test can reach the
// checks behind the signature with a doctored credential.
func resign(t *testing.T, f *fixture, payload []byte) string {
	t.Helper()
	k := f.keys[centerID]
	hdr := `{"alg":"` + f.s.JWSAlg() + `","typ":"vc+jwt","kid":"` + suite.KeyID(k.Alg, k.Public) + `"}`
	input := b64.EncodeToString([]byte(hdr)) + "." + b64.EncodeToString(payload)
	sig, err := f.s.Sign(k, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

// doctor decodes the credential of jws, lets edit change it, and re-signs.
func doctor(t *testing.T, f *fixture, jws string, edit func(cs map[string]any)) string {
	t.Helper()
	payload, err := b64.DecodeString(strings.Split(jws, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(payload, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc["credentialSubject"].(map[string]any))
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return resign(t, f, out)
}

func ledgerOf(cs map[string]any) map[string]any { return cs["ledger"].(map[string]any) }
func blockOf(cs map[string]any) map[string]any  { return ledgerOf(cs)["block"].(map[string]any) }

// flipHex changes the first character of a hex string to another hex digit.
func flipHex(s string) string {
	if s[0] == '0' {
		return "1" + s[1:]
	}
	return "0" + s[1:]
}

func TestTamperedCertificatesFail(t *testing.T) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			jws := f.issue(t).JWS
			parts := strings.Split(jws, ".")

			t.Run("payload byte", func(t *testing.T) {
				payload, _ := b64.DecodeString(parts[1])
				i := strings.Index(string(payload), "obligations performed")
				payload[i] = 'O'
				failsWith(t, f, parts[0]+"."+b64.EncodeToString(payload)+"."+parts[2], CheckSignature, "does not verify")
			})
			t.Run("signature byte", func(t *testing.T) {
				sig, _ := b64.DecodeString(parts[2])
				sig[10] ^= 0x01
				failsWith(t, f, parts[0]+"."+parts[1]+"."+b64.EncodeToString(sig), CheckSignature, "does not verify")
			})
			t.Run("proof element", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					inc := ledgerOf(cs)["inclusion"].(map[string]any)
					proof := inc["proof"].([]any)
					proof[0] = flipHex(proof[0].(string))
				})
				failsWith(t, f, bad, CheckInclusion, "does not lead from the exit tx")
			})
			t.Run("proof index", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					ledgerOf(cs)["inclusion"].(map[string]any)["leaf_index"] = 3
				})
				failsWith(t, f, bad, CheckInclusion, "does not lead")
			})
			t.Run("header byte", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					h := blockOf(cs)["header"].(map[string]any)
					h["prev"] = flipHex(h["prev"].(string))
				})
				failsWith(t, f, bad, CheckBlockHash, "the header was changed")
			})
			t.Run("unknown header member", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					blockOf(cs)["header"].(map[string]any)["extra"] = "x"
				})
				failsWith(t, f, bad, CheckCredential, "header")
			})
			t.Run("header without quorum", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					b := blockOf(cs)
					b["cosignatures"] = b["cosignatures"].([]any)[:2]
				})
				failsWith(t, f, bad, CheckQuorum, "quorum")
			})
			t.Run("cosignature by a non-recorder", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					b := blockOf(cs)
					k := f.keys[centerID]
					c, err := block.Cosign(f.s, k, centerID, suite.KeyID(k.Alg, k.Public), chainID, b["hash"].(string))
					if err != nil {
						t.Fatal(err)
					}
					b["cosignatures"] = append(b["cosignatures"].([]any), c)
				})
				failsWith(t, f, bad, CheckCosignatures, "not an active recorder")
			})
			t.Run("exit tx signature", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					sig := ledgerOf(cs)["tx"].(map[string]any)["sig"].(map[string]any)
					raw, _ := base64.RawURLEncoding.DecodeString(sig["value"].(string))
					raw[5] ^= 0x40
					sig["value"] = base64.RawURLEncoding.EncodeToString(raw)
				})
				failsWith(t, f, bad, CheckExitTx, "signature")
			})
			t.Run("exit reason", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					cs["exit"].(map[string]any)["reason"] = "paid in full"
				})
				failsWith(t, f, bad, CheckCredential, "exit reason")
			})
			t.Run("another record", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					r := cs["record"].(map[string]any)
					r["record_id"] = flipHex(r["record_id"].(string))
				})
				failsWith(t, f, bad, CheckCredential, "the exit tx ends record")
			})
		})
	}
}

func TestUnknownIssuerKey(t *testing.T) {
	f := newFixture(t, suite.Ed25519)
	jws := f.issue(t).JWS
	// A certificate signed by a recorder's key instead of the issuer's.
	k := f.keys[recorderID(2)]
	payload, _ := b64.DecodeString(strings.Split(jws, ".")[1])
	hdr := `{"alg":"Ed25519","typ":"vc+jwt","kid":"` + suite.KeyID(k.Alg, k.Public) + `"}`
	input := b64.EncodeToString([]byte(hdr)) + "." + b64.EncodeToString(payload)
	sig, _ := f.s.Sign(k, []byte(input))
	failsWith(t, f, input+"."+b64.EncodeToString(sig), CheckIssuerKey, "unknown issuer key")

	// The same certificate against another chain's trust bundle.
	other := newFixture(t, suite.SM2)
	res, err := Verify(jws, other.trust)
	if err == nil || res.Valid {
		t.Fatal("verified under another chain's trust bundle")
	}
}

func TestMalformedJWS(t *testing.T) {
	f := newFixture(t, suite.Ed25519)
	jws := f.issue(t).JWS
	parts := strings.Split(jws, ".")
	enc := func(s string) string { return b64.EncodeToString([]byte(s)) }
	kid := f.trust.Issuer.KeyID
	cases := map[string]string{
		"two parts":       parts[0] + "." + parts[1],
		"padding":         parts[0] + "." + parts[1] + "." + parts[2] + "==",
		"alg none":        enc(`{"alg":"none","typ":"vc+jwt","kid":"`+kid+`"}`) + "." + parts[1] + ".",
		"alg sm2":         enc(`{"alg":"SM2","typ":"vc+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"crit member":     enc(`{"alg":"Ed25519","typ":"vc+jwt","kid":"`+kid+`","crit":["b64"]}`) + "." + parts[1] + "." + parts[2],
		"repeated alg":    enc(`{"alg":"Ed25519","alg":"Ed25519","typ":"vc+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"upper-case name": enc(`{"ALG":"Ed25519","typ":"vc+jwt","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"wrong typ":       enc(`{"alg":"Ed25519","typ":"JWT","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
	}
	for name, jws := range cases {
		t.Run(name, func(t *testing.T) { failsWith(t, f, jws, CheckFormat, "") })
	}
}
