package ledger

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// A block's signatures are checked in batches: each transaction must end
// marked exactly as its own single check says, whatever its neighbours.
func TestVerifySignaturesMarksEachTransaction(t *testing.T) {
	s, err := suite.ByName(suite.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	member, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const id = "91350200776049653A"
	keyID := suite.KeyID(s.Name(), member.Public)
	epoch := membership.Epoch{Members: []membership.Member{{ID: id, Name: "m", Roles: []string{"submitter"},
		Keys: []membership.Key{{KeyID: keyID, Alg: s.Name(), Public: member.Public}}}}}
	batch := NewBatch(NewMemoryState(epoch, "2/3"))

	var txs []*Tx
	want := map[int]bool{}
	for i := range 200 {
		env := &txn.Envelope{Chain: "c", Type: "record.create", Submitter: id, Nonce: fmt.Sprintf("nonce-%016d", i),
			CreatedAt: "2026-11-25T08:00:00Z", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
		signer, signerID := member, keyID
		if i%7 == 3 {
			signer = stranger // signs under the member's key id: must fail
		}
		if err := txn.Sign(env, s, signer, signerID); err != nil {
			t.Fatal(err)
		}
		switch i % 11 {
		case 5:
			env.Submitter = "91110000000000000X" // not a member: left for Execute
		case 8:
			env.Nonce += "x" // signed bytes changed after signing
		}
		txs = append(txs, &Tx{Envelope: env})
		want[i] = i%7 != 3 && i%11 != 5 && i%11 != 8
	}
	txs = append(txs, nil) // a candidate that failed to decode
	x := &Executor{Suite: s}
	if err := x.VerifySignatures(context.Background(), batch, txs); err != nil {
		t.Fatal(err)
	}
	good := 0
	for i, tx := range txs[:len(txs)-1] {
		if tx.SigOK != want[i] {
			t.Fatalf("tx %d: SigOK %v, want %v", i, tx.SigOK, want[i])
		}
		if tx.SigOK {
			good++
			if err := tx.Envelope.VerifySignature(s, member.Public); err != nil {
				t.Fatalf("tx %d marked good, single check says %v", i, err)
			}
		}
	}
	if good == 0 || good == len(txs)-1 {
		t.Fatalf("%d good of %d: the mix is wrong", good, len(txs)-1)
	}
}
