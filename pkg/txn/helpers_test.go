package txn

import (
	"bytes"
	"io"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/emmansun/gmsm/ecdh"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sm2FromScalar(t testing.TB, d []byte) *suite.PrivateKey {
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	return &suite.PrivateKey{Alg: "sm2", Public: k.PublicKey().Bytes(), Private: bytes.Clone(d)}
}
