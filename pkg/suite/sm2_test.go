package suite

import (
	"crypto/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// TestSM2InteropWithGmsm checks the raw r||s encoding against gmsm's own DER
// signatures with the default uid, in both directions.
func TestSM2InteropWithGmsm(t *testing.T) {
	s, _ := ByName(SM2)
	k := newKey(t, s)
	priv, err := sm2PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("message digest")

	der, err := priv.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sm2DERToRaw(der)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Verify(k.Public, msg, raw) {
		t.Error("gmsm signature does not verify as r||s")
	}

	ours, err := s.Sign(k, msg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := sm2RawToDER(ours)
	if err != nil {
		t.Fatal(err)
	}
	if !sm2.VerifyASN1WithSM2(&priv.PublicKey, []byte("1234567812345678"), msg, back) {
		t.Error("our signature does not verify in gmsm with the explicit default uid")
	}
	if sm2.VerifyASN1WithSM2(&priv.PublicKey, []byte("another uid"), msg, back) {
		t.Error("our signature verifies under a different uid")
	}
}
