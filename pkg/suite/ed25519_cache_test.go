package suite

import (
	"crypto/ed25519"
	"testing"
)

// TestExpandedKeyCacheBounded: past maxExpandedKeys the cache takes no more
// keys, and checks go on giving the same answers without it.
func TestExpandedKeyCacheBounded(t *testing.T) {
	s := ed25519Suite{}
	msg := []byte("checkpoint")
	for i := range maxExpandedKeys + 10 {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		sig := ed25519.Sign(priv, msg)
		if !s.Verify(pub, msg, sig) {
			t.Fatalf("key %d: a good signature refused", i)
		}
		if s.Verify(pub, []byte("other"), sig) {
			t.Fatalf("key %d: a signature over another message accepted", i)
		}
	}
	expandedKeys.Lock()
	n := len(expandedKeys.m)
	expandedKeys.Unlock()
	if n != maxExpandedKeys {
		t.Fatalf("cache holds %d keys, want the bound %d", n, maxExpandedKeys)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	if expanded(pub) != nil {
		t.Fatal("a key past the bound was cached")
	}
}
