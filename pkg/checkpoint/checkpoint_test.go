package checkpoint

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/creditchain/creditchain/pkg/suite"
)

// Institution ids are USCCs; these are well-formed examples.
var names = []string{"91350200776049653A", "11100000000013127H", "12100000400010398P", "91110000802100433B"}

type member struct {
	name   string
	key    *suite.PrivateKey
	signer note.Signer
	vkey   string
}

func members(t *testing.T, s suite.Suite) []member {
	t.Helper()
	var out []member
	for _, n := range names {
		k, err := s.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := NewSigner(n, s, k)
		if err != nil {
			t.Fatal(err)
		}
		vk, err := VerifierKey(n, k.Alg, k.Public)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, member{n, k, sg, vk})
	}
	return out
}

func verifiers(t *testing.T, ms []member) []note.Verifier {
	t.Helper()
	var out []note.Verifier
	for _, m := range ms {
		v, err := NewVerifier(m.vkey)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func signers(ms []member) []note.Signer {
	var out []note.Signer
	for _, m := range ms {
		out = append(out, m.signer)
	}
	return out
}

func forSuites(t *testing.T, f func(t *testing.T, s suite.Suite)) {
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		s, err := suite.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { f(t, s) })
	}
}

func TestBodyRoundTrip(t *testing.T) {
	root := bytes.Repeat([]byte{0xab}, 32)
	body := Body("creditchain-test", 42, root)
	if want := "creditchain-test\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"; body != want {
		t.Fatalf("body %q, want %q", body, want)
	}
	c, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != "creditchain-test" || c.Size != 42 || !bytes.Equal(c.Root, root) {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := Parse(body + "extension line\n"); err != nil {
		t.Fatalf("extension line refused: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	root := "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="
	for _, text := range []string{
		"",
		"origin\n42\n" + root,             // no final newline
		"origin\n42\n",                    // no root
		"origin\n042\n" + root + "\n",     // leading zero
		"origin\n+42\n" + root + "\n",     // sign
		"origin\n-1\n" + root + "\n",      // negative
		"origin\n42\nq6urq6ur\n",          // short root
		"origin\n42\n" + root + "\n\nx\n", // empty line
		"\n42\n" + root + "\n",            // empty origin
		"origin\n18446744073709551616\n" + root + "\n", // overflow
	} {
		if c, err := Parse(text); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", text, c)
		}
	}
}

func TestSignVerifyQuorum(t *testing.T) {
	forSuites(t, func(t *testing.T, s suite.Suite) {
		ms := members(t, s)
		vs := verifiers(t, ms)
		root := s.Hash([]byte("root"))
		body := Body("chain-1", 7, root)
		signed, err := Sign(body, signers(ms[:3])...)
		if err != nil {
			t.Fatal(err)
		}
		size, got, err := Verify(signed, "chain-1", vs, 3)
		if err != nil {
			t.Fatal(err)
		}
		if size != 7 || !bytes.Equal(got, root) {
			t.Fatalf("verified size %d root %x", size, got)
		}
		if _, _, err := Verify(signed, "chain-1", vs, 4); err == nil {
			t.Fatal("3 signatures met a quorum of 4")
		}
		if _, _, err := Verify(signed, "chain-2", vs, 3); err == nil {
			t.Fatal("wrong origin accepted")
		}
		// Signatures by keys outside the verifier list do not count.
		if _, _, err := Verify(signed, "chain-1", vs[2:], 2); err == nil {
			t.Fatal("unknown signers counted towards the quorum")
		}
		// One institution signing twice counts once.
		twice, err := Sign(body, ms[0].signer, ms[0].signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Verify(twice, "chain-1", vs, 2); err == nil {
			t.Fatal("a repeated signer counted twice")
		}
		// A tampered body fails.
		bad := strings.Replace(signed, "\n7\n", "\n8\n", 1)
		if _, _, err := Verify(bad, "chain-1", vs, 1); err == nil {
			t.Fatal("tampered size accepted")
		}
		if _, _, err := Verify(signed, "chain-1", vs, 0); err == nil {
			t.Fatal("quorum 0 accepted")
		}
	})
}

func TestForgedSignatureRejects(t *testing.T) {
	forSuites(t, func(t *testing.T, s suite.Suite) {
		ms := members(t, s)
		vs := verifiers(t, ms)
		body := Body("chain-1", 1, s.Hash([]byte("r")))
		signed, err := Sign(body, signers(ms[:2])...)
		if err != nil {
			t.Fatal(err)
		}
		// ms[2]'s name and key id with ms[0]'s signature bytes.
		lines := strings.Split(strings.TrimSuffix(signed, "\n"), "\n")
		sig0 := strings.TrimPrefix(lines[len(lines)-2], "— "+ms[0].name+" ")
		forged := fakeLine(t, ms[2].signer, sig0)
		_, _, err = Verify(signed+forged, "chain-1", vs, 2)
		var inv *note.InvalidSignatureError
		if !errors.As(err, &inv) {
			t.Fatalf("forged signature: err = %v, want InvalidSignatureError", err)
		}
	})
}

// fakeLine is a signature line claiming to be by s, carrying another
// signature's bytes (b64 is a whole "keyid||sig" signature field).
func fakeLine(t *testing.T, s note.Signer, b64 string) string {
	t.Helper()
	return "— " + s.Name() + " " + withKeyID(t, s.KeyHash(), b64) + "\n"
}

func TestStandardToolsVerifyEd25519(t *testing.T) {
	s, _ := suite.ByName(suite.Ed25519)
	ms := members(t, s)
	body := Body("chain-1", 3, s.Hash([]byte("r")))
	signed, err := Sign(body, signers(ms[:2])...)
	if err != nil {
		t.Fatal(err)
	}
	var vs []note.Verifier
	for _, m := range ms {
		// The stock parser, not ours.
		v, err := note.NewVerifier(m.vkey)
		if err != nil {
			t.Fatalf("note.NewVerifier(%q): %v", m.vkey, err)
		}
		vs = append(vs, v)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(vs...))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != body || len(n.Sigs) != 2 {
		t.Fatalf("opened %q with %d signatures", n.Text, len(n.Sigs))
	}
	// And a note signed by the stock signer verifies with our verifier.
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", ms[0].name, ms[0].signer.KeyHash(), b64(append([]byte{1}, ms[0].key.Private...)))
	std, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	stdSigned, err := note.Sign(&note.Note{Text: body}, std)
	if err != nil {
		t.Fatal(err)
	}
	if stdSigned := string(stdSigned); stdSigned != mustSign(t, body, ms[0].signer) {
		t.Fatalf("stock signer and ours differ:\n%s\n%s", stdSigned, mustSign(t, body, ms[0].signer))
	}
	ours, err := NewVerifier(ms[0].vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Verify(string(stdSigned), "chain-1", []note.Verifier{ours}, 1); err != nil {
		t.Fatal(err)
	}
}

func TestSM2KeyEncoding(t *testing.T) {
	s, _ := suite.ByName(suite.SM2)
	ms := members(t, s)
	// The stock parser does not know SM2, and says so.
	if _, err := note.NewVerifier(ms[0].vkey); err == nil {
		t.Fatal("note.NewVerifier accepted an SM2 key")
	}
	v, err := NewVerifier(ms[0].vkey)
	if err != nil {
		t.Fatal(err)
	}
	if v.Name() != ms[0].name || v.KeyHash() != ms[0].signer.KeyHash() {
		t.Fatalf("verifier %s+%08x, signer %s+%08x", v.Name(), v.KeyHash(), ms[0].name, ms[0].signer.KeyHash())
	}
	key := unb64(t, strings.SplitN(ms[0].vkey, "+", 3)[2])
	if key[0] != 0xff || string(key[1:16]) != "creditchain/sm2" || len(key) != 1+15+65 {
		t.Fatalf("sm2 key encoding %x", key)
	}
}

func TestVerifierKeyRejects(t *testing.T) {
	s, _ := suite.ByName(suite.Ed25519)
	k, _ := s.GenerateKey(rand.Reader)
	for _, name := range []string{"", "has space", "a+b", "tab\t"} {
		if _, err := VerifierKey(name, k.Alg, k.Public); err == nil {
			t.Errorf("VerifierKey(%q) accepted", name)
		}
		if _, err := NewSigner(name, s, k); err == nil {
			t.Errorf("NewSigner(%q) accepted", name)
		}
	}
	if _, err := VerifierKey("x", "rsa", k.Public); err == nil {
		t.Error("unknown alg accepted")
	}
	if _, err := VerifierKey("x", suite.Ed25519, k.Public[:31]); err == nil {
		t.Error("short key accepted")
	}
	sm, _ := suite.ByName(suite.SM2)
	if _, err := NewSigner("x", sm, k); err == nil {
		t.Error("ed25519 key accepted by an sm2 signer")
	}
	vk, _ := VerifierKey("x", k.Alg, k.Public)
	for _, bad := range []string{"x", "x+0000+AQ==", strings.Replace(vk, "x+", "y+", 1), vk[:len(vk)-4]} {
		if _, err := NewVerifier(bad); err == nil {
			t.Errorf("NewVerifier(%q) accepted", bad)
		}
	}
}

func TestMerge(t *testing.T) {
	forSuites(t, func(t *testing.T, s suite.Suite) {
		ms := members(t, s)
		vs := verifiers(t, ms)
		body := Body("chain-1", 9, s.Hash([]byte("r")))
		var parts []string
		for _, m := range ms[:3] {
			parts = append(parts, mustSign(t, body, m.signer))
		}
		merged, err := Merge(append(parts, parts[0])...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(merged, "— ") != 3 {
			t.Fatalf("merged note has %d signatures:\n%s", strings.Count(merged, "— "), merged)
		}
		if _, _, err := Verify(merged, "chain-1", vs, 3); err != nil {
			t.Fatal(err)
		}
		other := mustSign(t, Body("chain-1", 10, s.Hash([]byte("r"))), ms[3].signer)
		if _, err := Merge(parts[0], other); err == nil {
			t.Fatal("merged notes of different bodies")
		}
	})
}

func mustSign(t *testing.T, body string, s note.Signer) string {
	t.Helper()
	out, err := Sign(body, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
