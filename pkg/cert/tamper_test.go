package cert_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/cert/certtest"
	"github.com/creditchain/creditchain/pkg/suite"
)

// doctor decodes the credential of jws, lets edit change it, and re-signs.
func doctor(t *testing.T, f *certtest.Fixture, jws string, edit func(cs map[string]any)) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
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
	return f.Resign(t, out)
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
			f := certtest.New(t, name)
			jws := f.Issue(t).JWS
			parts := strings.Split(jws, ".")

			t.Run("payload byte", func(t *testing.T) {
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				i := strings.Index(string(payload), "obligations performed")
				payload[i] = 'O'
				failsWith(t, f, parts[0]+"."+base64.RawURLEncoding.EncodeToString(payload)+"."+parts[2], cert.CheckSignature, "does not verify")
			})
			t.Run("signature byte", func(t *testing.T) {
				sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
				sig[10] ^= 0x01
				failsWith(t, f, parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(sig), cert.CheckSignature, "does not verify")
			})
			t.Run("proof element", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					inc := ledgerOf(cs)["inclusion"].(map[string]any)
					proof := inc["proof"].([]any)
					proof[0] = flipHex(proof[0].(string))
				})
				failsWith(t, f, bad, cert.CheckInclusion, "does not lead from the exit tx")
			})
			t.Run("proof index", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					ledgerOf(cs)["inclusion"].(map[string]any)["leaf_index"] = 3
				})
				failsWith(t, f, bad, cert.CheckInclusion, "does not lead")
			})
			t.Run("header byte", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					h := blockOf(cs)["header"].(map[string]any)
					h["prev"] = flipHex(h["prev"].(string))
				})
				failsWith(t, f, bad, cert.CheckBlockHash, "the header was changed")
			})
			t.Run("unknown header member", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					blockOf(cs)["header"].(map[string]any)["extra"] = "x"
				})
				failsWith(t, f, bad, cert.CheckCredential, "header")
			})
			t.Run("header without quorum", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					b := blockOf(cs)
					b["cosignatures"] = b["cosignatures"].([]any)[:2]
				})
				failsWith(t, f, bad, cert.CheckQuorum, "quorum")
			})
			t.Run("cosignature by a non-recorder", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					b := blockOf(cs)
					k := f.Keys[certtest.CenterID]
					c, err := block.Cosign(f.S, k, certtest.CenterID, suite.KeyID(k.Alg, k.Public), certtest.ChainID, b["hash"].(string))
					if err != nil {
						t.Fatal(err)
					}
					b["cosignatures"] = append(b["cosignatures"].([]any), c)
				})
				failsWith(t, f, bad, cert.CheckCosignatures, "not an active recorder")
			})
			t.Run("exit tx signature", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					sig := ledgerOf(cs)["tx"].(map[string]any)["sig"].(map[string]any)
					raw, _ := base64.RawURLEncoding.DecodeString(sig["value"].(string))
					raw[5] ^= 0x40
					sig["value"] = base64.RawURLEncoding.EncodeToString(raw)
				})
				failsWith(t, f, bad, cert.CheckExitTx, "signature")
			})
			t.Run("exit reason", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					cs["exit"].(map[string]any)["reason"] = "paid in full"
				})
				failsWith(t, f, bad, cert.CheckCredential, "exit reason")
			})
			t.Run("another record", func(t *testing.T) {
				bad := doctor(t, f, jws, func(cs map[string]any) {
					r := cs["record"].(map[string]any)
					r["record_id"] = flipHex(r["record_id"].(string))
				})
				failsWith(t, f, bad, cert.CheckCredential, "the exit tx ends record")
			})
		})
	}
}

func TestUnknownIssuerKey(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	jws := f.Issue(t).JWS
	// A certificate signed by a recorder's key instead of the issuer's.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	failsWith(t, f, f.SignAs(t, certtest.RecorderID(2), payload), cert.CheckIssuerKey, "unknown issuer key")

	// The same certificate against another chain's trust bundle.
	other := certtest.New(t, suite.SM2)
	res, err := cert.Verify(jws, other.Trust)
	if err == nil || res.Valid {
		t.Fatal("verified under another chain's trust bundle")
	}
}

func TestMalformedJWS(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	jws := f.Issue(t).JWS
	parts := strings.Split(jws, ".")
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	kid := f.Trust.Issuer.KeyID
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
		t.Run(name, func(t *testing.T) { failsWith(t, f, jws, cert.CheckFormat, "") })
	}
}
