package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go/jetstream"
)

// receiptWindow bounds the receipt puts in flight at once: below the
// client's default limit of pending asynchronous publishes, so a large
// block never stalls on it.
const receiptWindow = 1000

// receipt is what intake reads from the RECEIPTS bucket.
type receipt struct {
	Status string `json:"status"`
	Height uint64 `json:"height,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// publishReceipts writes the block's receipts for intake into the RECEIPTS
// bucket. ids are the committed transactions' ids in block order, or nil to
// derive them from the block. Puts are idempotent; a new leader repeats
// them for the head block in case its predecessor died between appending
// and writing them. They are pipelined (a key-value put is a publish to
// the bucket's subject): one round trip per transaction cost seconds per
// block.
func (n *Node) publishReceipts(ctx context.Context, b *block.Block, ids []string) error {
	if ids == nil {
		for _, raw := range b.Txs {
			env, err := txn.DecodeEnvelope(raw)
			if err != nil {
				return err
			}
			id, err := env.ID(n.suite)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
	}
	type put struct {
		id string
		r  receipt
	}
	puts := make([]put, 0, len(ids)+len(b.Rejected))
	for _, id := range ids {
		puts = append(puts, put{id, receipt{Status: "committed", Height: b.Header.Height}})
	}
	for _, r := range b.Rejected {
		puts = append(puts, put{r.TxID, receipt{Status: "rejected", Height: b.Header.Height, Reason: r.Reason}})
	}
	for len(puts) > 0 {
		chunk := puts[:min(len(puts), receiptWindow)]
		puts = puts[len(chunk):]
		acks := make([]jetstream.PubAckFuture, 0, len(chunk))
		for _, p := range chunk {
			data, _ := json.Marshal(p.r)
			f, err := n.js.PublishAsync("$KV."+streams.ReceiptsBucket+"."+p.id, data)
			if err != nil {
				return fmt.Errorf("receipt %s: %w", p.id, err)
			}
			acks = append(acks, f)
		}
		for i, f := range acks {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("receipt %s: %w", chunk[i].id, err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// receiptJob is one block's receipts, handed from the leader loop to the
// writer so that the next block does not wait for them.
type receiptJob struct {
	block *block.Block
	ids   []string
}

// writeReceipts publishes the receipts of the blocks sent on jobs, in
// order (a rejected transaction resubmitted later must end with its newer
// receipt), until jobs is closed.
func (n *Node) writeReceipts(ctx context.Context, jobs <-chan receiptJob, done chan<- struct{}) {
	defer close(done)
	for j := range jobs {
		// Bounded: an acknowledgement lost with a NATS restart must not
		// hold the queue, and so the leader, forever. A receipt lost that
		// way leaves its transaction "pending" at intake although the
		// chain and every replica hold it (docs/reliability.md).
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := n.publishReceipts(jctx, j.block, j.ids); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("publish receipts", "height", j.block.Header.Height, "err", err)
		}
		cancel()
	}
}
