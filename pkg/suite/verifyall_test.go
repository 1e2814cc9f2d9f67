package suite

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

// mixedBatch is n signatures of which every third is spoiled in a
// different way, so a batch holds good and bad ones together.
func mixedBatch(t testing.TB, s Suite, n int) []SignedMessage {
	keys := []*PrivateKey{newKey(t, s), newKey(t, s), newKey(t, s)}
	items := make([]SignedMessage, n)
	for i := range items {
		k := keys[i%len(keys)]
		msg := []byte(fmt.Sprintf("message %d", i))
		sig, err := s.Sign(k, msg)
		if err != nil {
			t.Fatal(err)
		}
		it := SignedMessage{Public: k.Public, Message: msg, Sig: sig}
		if i%3 == 2 {
			switch (i / 3) % 5 {
			case 0:
				it.Message = append(bytes.Clone(msg), '!')
			case 1:
				it.Sig = flip(sig, i%len(sig)*8)
			case 2:
				it.Public = keys[(i+1)%len(keys)].Public
			case 3:
				it.Sig = sig[:len(sig)-1]
			case 4:
				it.Public = it.Public[1:]
			}
		}
		items[i] = it
	}
	return items
}

// VerifyAll is the single verifier's verdict on every item, whatever the
// batch holds: the chain forks if the two ever disagree.
func TestVerifyAllAgreesWithVerify(t *testing.T) {
	for _, s := range suites(t) {
		for _, n := range []int{0, 1, minBatch - 1, minBatch, 64, 301} {
			t.Run(fmt.Sprintf("%s/%d", s.Name(), n), func(t *testing.T) {
				items := mixedBatch(t, s, n)
				got := VerifyAll(s, items)
				valid := 0
				for i, it := range items {
					want := s.Verify(it.Public, it.Message, it.Sig)
					if got[i] != want {
						t.Fatalf("item %d: VerifyAll says %v, Verify says %v", i, got[i], want)
					}
					if want {
						valid++
					}
				}
				if n >= 3 && (valid == 0 || valid == n) {
					t.Fatalf("%d of %d valid: the batch should mix good and bad", valid, n)
				}
			})
		}
	}
}

// smallOrder are encodings of points of small order, among them
// non-canonical ones: where Ed25519 verification rules differ.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

// Crafted signatures (small-order, non-canonical A and R, S = 0): the
// rule is ZIP-215, and single and batch checks give the same verdict.
func TestEd25519CraftedSignaturesOneRule(t *testing.T) {
	s, err := ByName(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	var items []SignedMessage
	for _, a := range smallOrder {
		for _, r := range smallOrder {
			sig := append(unhex(t, r), make([]byte, 32)...)
			items = append(items, SignedMessage{Public: unhex(t, a), Message: []byte("zip215"), Sig: sig})
		}
	}
	got := VerifyAll(s, items)
	accepted := 0
	for i, it := range items {
		if want := s.Verify(it.Public, it.Message, it.Sig); got[i] != want {
			t.Fatalf("item %d: batch %v, single %v", i, got[i], want)
		}
		if got[i] {
			accepted++
		}
	}
	// Under ZIP-215, [8][S]B = [8]R + [8][k]A holds for every small-order A
	// and R when S = 0; a cofactorless rule would refuse most of them.
	if accepted != len(items) {
		t.Fatalf("ZIP-215 accepts all %d small-order cases, got %d", len(items), accepted)
	}
	// A non-canonical S (S >= L) is refused.
	bad := append(unhex(t, smallOrder[0]), bytes.Repeat([]byte{0xff}, 32)...)
	if s.Verify(unhex(t, smallOrder[0]), []byte("zip215"), bad) {
		t.Fatal("non-canonical S accepted")
	}
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkVerifyAll(b *testing.B) {
	for _, s := range suites(b) {
		items := mixedBatch(b, s, 2000)
		for i := range items {
			if i%3 == 2 { // all valid: the common case
				items[i] = items[i-1]
			}
		}
		b.Run(s.Name()+"/batch2000", func(b *testing.B) {
			for b.Loop() {
				VerifyAll(s, items)
			}
		})
		b.Run(s.Name()+"/single2000", func(b *testing.B) {
			for b.Loop() {
				for _, it := range items {
					s.Verify(it.Public, it.Message, it.Sig)
				}
			}
		})
	}
}
