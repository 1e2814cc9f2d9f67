package ledger

import (
	"context"
	"runtime"
	"sync"
)

// VerifySignatures checks the signatures of txs in parallel against the
// membership in force for b, marking each good one SigOK. Signature checks
// dominate the cost of a block and are independent, so they use every core;
// the rules still run in order. A bad or unknown signature is left unmarked
// for Execute to reject with its reason.
func (x *Executor) VerifySignatures(ctx context.Context, b *Batch, txs []*Tx) error {
	m, err := b.Membership(ctx)
	if err != nil {
		return err
	}
	work := make(chan *Tx)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tx := range work {
				env := tx.Envelope
				if env.Sig == nil {
					continue
				}
				mem, ok := m.Member(env.Submitter)
				if !ok {
					continue
				}
				key, ok := mem.Key(env.Sig.KeyID)
				if !ok {
					continue
				}
				tx.SigOK = env.VerifySignature(x.Suite, key.Public) == nil
			}
		}()
	}
	for _, tx := range txs {
		if tx != nil {
			work <- tx
		}
	}
	close(work)
	wg.Wait()
	return nil
}
