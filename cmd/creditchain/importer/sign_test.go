package importer

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// TestSignRebuildsTheSameTx is what resuming rests on: the same row, nonce,
// created_at and salt give the same tx id; another created_at does not.
func TestSignRebuildsTheSameTx(t *testing.T) {
	for _, alg := range []string{suite.Ed25519, suite.SM2} {
		s, err := suite.ByName(alg)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sg := &signer{chain: "creditchain-test", suite: s, key: suite.NewKeyFile("11350200MA0000001X", k), fileSHA: strings.Repeat("a", 64)}
		p := testParser(t, rowHeader, nil)
		p.Suite = s
		items, probs := p.Parse([]Row{{Line: 2, Cells: goodRow(t, 2, map[int]string{1: "", 2: citizenID(t, 3), 3: "王五"})}})
		if len(probs) != 0 {
			t.Fatal(probs)
		}
		salt, err := newSalt()
		if err != nil || len(salt) != 64 {
			t.Fatalf("salt %q %v", salt, err)
		}
		env1, pers, id1, err := sg.sign(items[0], "2026-11-25T08:00:00Z", salt)
		if err != nil {
			t.Fatal(err)
		}
		env2, _, id2, err := sg.sign(items[0], "2026-11-25T08:00:00Z", salt)
		if err != nil || id1 != id2 || env1.Nonce != env2.Nonce {
			t.Errorf("%s: rebuilding gave %s, first %s (%v)", alg, id2, id1, err)
		}
		if _, _, id3, _ := sg.sign(items[0], "2026-11-25T08:00:01Z", salt); id3 == id1 {
			t.Errorf("%s: another created_at gave the same tx id", alg)
		}
		if sg.nonce(2) == sg.nonce(3) || len(sg.nonce(2)) != 32 {
			t.Errorf("nonces %s %s", sg.nonce(2), sg.nonce(3))
		}
		// The envelope is what intake accepts: valid, signed, the sidecar
		// opening the commitment.
		pl, err := txn.DecodePayload(env1.Type, env1.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if aerr := txn.Validate(env1, pl, pers, testNow); aerr != nil {
			t.Errorf("%s: %v", alg, aerr)
		}
		if err := env1.VerifySignature(s, k.Public); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}
