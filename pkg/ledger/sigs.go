package ledger

import (
	"context"
	"runtime"
	"sync"

	"github.com/creditchain/creditchain/pkg/suite"
)

// VerifySignatures checks the signatures of txs against the membership in
// force for b, marking each good one SigOK. Signature checks dominate the
// cost of a block and are independent, so they are checked in batches
// (suite.VerifyAll, one rule with single checks) spread over every core;
// the rules still run in order. A bad or unknown signature is left
// unmarked for Execute to reject with its reason.
func (x *Executor) VerifySignatures(ctx context.Context, b *Batch, txs []*Tx) error {
	m, err := b.Membership(ctx)
	if err != nil {
		return err
	}
	todo := make([]*Tx, 0, len(txs))
	items := make([]suite.SignedMessage, 0, len(txs))
	for _, tx := range txs {
		if tx == nil || tx.Envelope.Sig == nil {
			continue
		}
		env := tx.Envelope
		mem, ok := m.Member(env.Submitter)
		if !ok {
			continue
		}
		key, ok := mem.Key(env.Sig.KeyID)
		if !ok {
			continue
		}
		msg, sig, err := env.SignatureInput(x.Suite, key.Public)
		if err != nil {
			continue
		}
		todo = append(todo, tx)
		items = append(items, suite.SignedMessage{Public: key.Public, Message: msg, Sig: sig})
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(items)/64))
	per := (len(items) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(items); lo += per {
		hi := min(lo+per, len(items))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := range suite.VerifyAll(x.Suite, items[lo:hi]) {
				todo[lo+i].SigOK = ok
			}
		}()
	}
	wg.Wait()
	return nil
}
