package suite

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// suites is the conformance table: every test below runs against each suite.
func suites(t testing.TB) []Suite {
	t.Helper()
	var out []Suite
	for _, name := range []string{Ed25519, SM2} {
		s, err := ByName(name)
		if err != nil {
			t.Fatalf("ByName(%q): %v", name, err)
		}
		if s.Name() != name {
			t.Fatalf("ByName(%q).Name() = %q", name, s.Name())
		}
		out = append(out, s)
	}
	return out
}

func newKey(t testing.TB, s Suite) *PrivateKey {
	t.Helper()
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("%s: GenerateKey: %v", s.Name(), err)
	}
	return k
}

func TestByNameUnknown(t *testing.T) {
	for _, name := range []string{"", "ED25519", "sm3", "rsa"} {
		if _, err := ByName(name); err == nil {
			t.Errorf("ByName(%q) succeeded", name)
		}
	}
}

func TestJWSAlg(t *testing.T) {
	want := map[string]string{Ed25519: "Ed25519", SM2: "SM2"}
	for _, s := range suites(t) {
		if got := s.JWSAlg(); got != want[s.Name()] {
			t.Errorf("%s: JWSAlg = %q, want %q", s.Name(), got, want[s.Name()])
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.Name(), func(t *testing.T) {
			k := newKey(t, s)
			for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("creditchain"), 1000)} {
				sig, err := s.Sign(k, msg)
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				if !s.Verify(k.Public, msg, sig) {
					t.Fatalf("Verify rejected a fresh signature over %d bytes", len(msg))
				}
			}
		})
	}
}

func flip(b []byte, bit int) []byte {
	c := bytes.Clone(b)
	c[bit/8] ^= 1 << (bit % 8)
	return c
}

func TestFlippedBitsFail(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.Name(), func(t *testing.T) {
			k := newKey(t, s)
			msg := []byte("creditchain-block-v1:test:00")
			sig, err := s.Sign(k, msg)
			if err != nil {
				t.Fatal(err)
			}
			for bit := 0; bit < len(msg)*8; bit += 7 {
				if s.Verify(k.Public, flip(msg, bit), sig) {
					t.Fatalf("message with bit %d flipped verified", bit)
				}
			}
			for bit := 0; bit < len(sig)*8; bit++ {
				if s.Verify(k.Public, msg, flip(sig, bit)) {
					t.Fatalf("signature with bit %d flipped verified", bit)
				}
			}
			for bit := 0; bit < len(k.Public)*8; bit++ {
				if s.Verify(flip(k.Public, bit), msg, sig) {
					t.Fatalf("public key with bit %d flipped verified", bit)
				}
			}
			other := newKey(t, s)
			if s.Verify(other.Public, msg, sig) {
				t.Fatal("signature verified under another key")
			}
			for _, bad := range [][]byte{nil, sig[:len(sig)-1], append(bytes.Clone(sig), 0)} {
				if s.Verify(k.Public, msg, bad) {
					t.Fatalf("signature of %d bytes verified", len(bad))
				}
			}
			for _, bad := range [][]byte{nil, k.Public[:len(k.Public)-1], append(bytes.Clone(k.Public), 0)} {
				if s.Verify(bad, msg, sig) {
					t.Fatalf("public key of %d bytes verified", len(bad))
				}
			}
		})
	}
}

func TestKeyAndSignatureSizes(t *testing.T) {
	want := map[string][3]int{ // public, private, signature
		Ed25519: {32, 32, 64},
		SM2:     {65, 32, 64},
	}
	for _, s := range suites(t) {
		k := newKey(t, s)
		w := want[s.Name()]
		if k.Alg != s.Name() || len(k.Public) != w[0] || len(k.Private) != w[1] {
			t.Errorf("%s: key alg %q, public %d, private %d bytes; want %v", s.Name(), k.Alg, len(k.Public), len(k.Private), w)
		}
		if s.Name() == SM2 && k.Public[0] != 4 {
			t.Errorf("sm2 public key is not an uncompressed point: %x", k.Public[:1])
		}
		sig, err := s.Sign(k, []byte("m"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != w[2] {
			t.Errorf("%s: signature is %d bytes, want %d", s.Name(), len(sig), w[2])
		}
		if err := k.Check(); err != nil {
			t.Errorf("%s: Check: %v", s.Name(), err)
		}
		if err := CheckPublicKey(s.Name(), k.Public); err != nil {
			t.Errorf("%s: CheckPublicKey: %v", s.Name(), err)
		}
	}
}

func TestSignRejectsInconsistentKeys(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.Name(), func(t *testing.T) {
			k := newKey(t, s)
			other := newKey(t, s)
			cases := map[string]*PrivateKey{
				"nil":           nil,
				"wrong alg":     {Alg: "rsa", Public: k.Public, Private: k.Private},
				"short private": {Alg: k.Alg, Public: k.Public, Private: k.Private[:31]},
				"short public":  {Alg: k.Alg, Public: k.Public[:len(k.Public)-1], Private: k.Private},
				"mismatch":      {Alg: k.Alg, Public: other.Public, Private: k.Private},
			}
			for name, bad := range cases {
				if _, err := s.Sign(bad, []byte("m")); err == nil {
					t.Errorf("%s: Sign succeeded", name)
				}
				if bad != nil && bad.Check() == nil {
					t.Errorf("%s: Check succeeded", name)
				}
			}
		})
	}
}

func TestSM2RejectsOutOfRangeScalars(t *testing.T) {
	s, _ := ByName(SM2)
	for name, d := range map[string][]byte{
		"zero": make([]byte, 32),
		"n-1":  sm2NMinus1.FillBytes(make([]byte, 32)),
		"max":  bytes.Repeat([]byte{0xff}, 32),
	} {
		k := &PrivateKey{Alg: SM2, Public: newKey(t, s).Public, Private: d}
		if err := k.Check(); err == nil {
			t.Errorf("%s scalar accepted", name)
		}
	}
	if CheckPublicKey(SM2, append([]byte{4}, make([]byte, 64)...)) == nil {
		t.Error("sm2 point (0,0) accepted")
	}
}

func TestHash(t *testing.T) {
	// Known answers: SHA-256("abc") and SM3("abc") (GB/T 32905-2016 A.1).
	want := map[string]string{
		Ed25519: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		SM2:     "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
	}
	for _, s := range suites(t) {
		h := s.Hash([]byte("abc"))
		if len(h) != 32 {
			t.Errorf("%s: hash is %d bytes", s.Name(), len(h))
		}
		if got := hex.EncodeToString(h); got != want[s.Name()] {
			t.Errorf("%s: Hash(abc) = %s, want %s", s.Name(), got, want[s.Name()])
		}
		if !bytes.Equal(h, s.Hash([]byte("abc"))) {
			t.Errorf("%s: Hash is not deterministic", s.Name())
		}
		if len(s.Hash(nil)) != 32 {
			t.Errorf("%s: Hash(nil) is not 32 bytes", s.Name())
		}
	}
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestKeyID(t *testing.T) {
	for _, s := range suites(t) {
		k := newKey(t, s)
		id := KeyID(s.Name(), k.Public)
		if !keyIDPattern.MatchString(id) {
			t.Errorf("%s: key id %q is not 16 lowercase hex chars", s.Name(), id)
		}
		msg := append([]byte(s.Name()+":"), k.Public...)
		if want := hex.EncodeToString(s.Hash(msg))[:16]; id != want {
			t.Errorf("%s: key id %q, want %q", s.Name(), id, want)
		}
		if id == KeyID(s.Name(), newKey(t, s).Public) {
			t.Errorf("%s: two keys share a key id", s.Name())
		}
	}
	if KeyID("rsa", []byte{1}) != "" {
		t.Error("unknown alg has a key id")
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	for _, s := range suites(t) {
		t.Run(s.Name(), func(t *testing.T) {
			k := newKey(t, s)
			path := filepath.Join(t.TempDir(), "key.json")
			f := NewKeyFile("91350200776049653A", k)
			if err := f.Save(path); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
			}
			g, err := LoadKeyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if g.Institution != f.Institution || g.KeyID != f.KeyID || g.Alg != s.Name() ||
				!bytes.Equal(g.Public, k.Public) || !bytes.Equal(g.Private, k.Private) {
				t.Fatalf("loaded %+v, saved %+v", g, f)
			}
			sig, err := s.Sign(g.PrivateKey(), []byte("m"))
			if err != nil || !s.Verify(k.Public, []byte("m"), sig) {
				t.Fatalf("loaded key does not sign: %v", err)
			}
		})
	}
}

func TestLoadKeyFileRejects(t *testing.T) {
	s, _ := ByName(Ed25519)
	k := newKey(t, s)
	good := NewKeyFile("91350200776049653A", k)
	cases := map[string]func(f *KeyFile){
		"no institution": func(f *KeyFile) { f.Institution = "" },
		"wrong key id":   func(f *KeyFile) { f.KeyID = "0000000000000000" },
		"short seed":     func(f *KeyFile) { f.Private = f.Private[:16] },
		"long public":    func(f *KeyFile) { f.Public = append(f.Public, 0) },
		"unknown alg":    func(f *KeyFile) { f.Alg = "rsa" },
		"alg mismatch":   func(f *KeyFile) { f.Alg = SM2 },
	}
	dir := t.TempDir()
	for name, mutate := range cases {
		f := *good
		mutate(&f)
		path := filepath.Join(dir, "k.json")
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(path); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	path := filepath.Join(dir, "extra.json")
	if err := os.WriteFile(path, []byte(`{"institution":"x","key_id":"","alg":"ed25519","public":"","private":"","extra":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(path); err == nil {
		t.Error("unknown member accepted")
	}
}

func BenchmarkSign(b *testing.B) {
	msg := bytes.Repeat([]byte{7}, 512)
	for _, s := range suites(b) {
		k := newKey(b, s)
		b.Run(s.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Sign(k, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	msg := bytes.Repeat([]byte{7}, 512)
	for _, s := range suites(b) {
		k := newKey(b, s)
		sig, err := s.Sign(k, msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name(), func(b *testing.B) {
			for b.Loop() {
				if !s.Verify(k.Public, msg, sig) {
					b.Fatal("verify failed")
				}
			}
		})
	}
}
