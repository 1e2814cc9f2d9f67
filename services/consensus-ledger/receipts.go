package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/streams"
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

// receiptsMarkKey names the RECEIPTS entry holding the height through
// which every block's receipts are written: a new leader rewrites the
// receipts of the blocks after it, which its predecessor may have died
// before writing. It is not a transaction id (intake answers only for 64
// hex characters), so no client ever reads it as one.
const receiptsMarkKey = "written-through"

type receiptsMark struct {
	Height uint64 `json:"height"`
}

// receiptPut is one receipt to write, under its transaction's id.
type receiptPut struct {
	id string
	r  receipt
}

// blockReceipts lists the receipts of block b, whose committed
// transactions' ids are ids.
func blockReceipts(b *block.Block, ids []string) []receiptPut {
	puts := make([]receiptPut, 0, len(ids)+len(b.Rejected))
	for _, id := range ids {
		puts = append(puts, receiptPut{id, receipt{Status: "committed", Height: b.Header.Height}})
	}
	for _, r := range b.Rejected {
		puts = append(puts, receiptPut{r.TxID, receipt{Status: "rejected", Height: b.Header.Height, Reason: r.Reason}})
	}
	return puts
}

// publishReceipts writes receipts for intake into the RECEIPTS bucket.
// Puts are idempotent. They are pipelined (a key-value put is a publish to
// the bucket's subject): one round trip per transaction cost seconds per
// block.
func (n *Node) publishReceipts(ctx context.Context, puts []receiptPut) error {
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

// receiptsWriter writes one term's receipts and moves the mark behind them.
type receiptsWriter struct {
	n  *Node
	kv jetstream.KeyValue
	// mark is the height through which receipts are known written; rev
	// the mark entry's revision as last seen (0: none yet).
	mark, rev uint64
	// gap: some block's receipts after mark could not be written; they are
	// rewritten from the database (repair) before the mark moves on.
	gap        bool
	lastRepair time.Time
}

// repairEvery spaces the repairs of a gap while NATS is failing: each
// reads the receipts table.
const repairEvery = 5 * time.Second

// writeReceipts first rewrites the receipts of the blocks after the mark
// up to head (written by a predecessor that may have died first), then
// publishes the receipts of the blocks sent on jobs, in order (a rejected
// transaction resubmitted later must end with its newer receipt), until
// jobs is closed.
func (n *Node) writeReceipts(ctx context.Context, kv jetstream.KeyValue, head uint64, jobs <-chan receiptJob, done chan<- struct{}) {
	defer close(done)
	w := &receiptsWriter{n: n, kv: kv}
	w.start(ctx, head)
	for j := range jobs {
		h := j.block.Header.Height
		if w.gap {
			// Repair first: the newest decisions from the database, this
			// block's among them once it is there.
			if time.Since(w.lastRepair) >= repairEvery {
				w.repair(ctx)
			}
			if w.gap {
				continue
			}
		}
		if w.write(ctx, h, blockReceipts(j.block, j.ids)) {
			w.advance(ctx, h)
		}
	}
	if w.gap {
		w.repair(ctx)
	}
}

// start reads the mark and rewrites the receipts of the blocks (mark,
// head]. Without a mark (a chain older than it) only the head block's are
// rewritten.
func (w *receiptsWriter) start(ctx context.Context, head uint64) {
	if err := w.readMark(ctx); err != nil {
		w.n.cfg.Logger.Warn("read receipts mark; rewriting the head block's receipts only", "err", err)
	}
	if w.rev == 0 && head > 0 {
		w.mark = head - 1
	}
	if w.mark < head {
		w.gap = true
		w.repair(ctx)
	}
}

// repair rewrites the receipts of the blocks after the mark through the
// database's head, from the receipts table (each transaction's newest
// decision, so an older block's receipt never overwrites a newer one), and
// moves the mark there.
func (w *receiptsWriter) repair(ctx context.Context) {
	n := w.n
	w.lastRepair = time.Now()
	head, err := n.store.Head(ctx)
	if err != nil {
		n.cfg.Logger.Warn("rewrite receipts", "err", err)
		return
	}
	after, through := w.mark, head.Height
	if through <= after {
		return
	}
	decisions, err := n.store.DecisionsBetween(ctx, after, through)
	if err != nil {
		n.cfg.Logger.Warn("rewrite receipts", "after", after, "through", through, "err", err)
		return
	}
	puts := make([]receiptPut, len(decisions))
	for i, d := range decisions {
		r := receipt{Status: d.Status, Height: d.Height}
		if d.Status != "committed" {
			r.Reason = d.Code
		}
		puts[i] = receiptPut{d.TxID, r}
	}
	if !w.write(ctx, through, puts) {
		return
	}
	w.gap = false
	w.advance(ctx, through)
	if through-after > 1 {
		n.cfg.Logger.Info("rewrote receipts that may not have been written", "after", after, "through", through, "receipts", len(puts))
	}
}

// write publishes puts (the receipts of the blocks through height),
// trying a few times: an acknowledgement lost with a NATS restart must not
// hold the queue, and so the leader, forever. A failure leaves a gap for
// repair. It reports success.
func (w *receiptsWriter) write(ctx context.Context, height uint64, puts []receiptPut) bool {
	if f := w.n.cfg.AdversaryDropReceipts; f != nil && f(height) {
		w.gap = true
		return false
	}
	var err error
	for attempt := 1; attempt <= 3 && ctx.Err() == nil; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = w.n.publishReceipts(wctx, puts)
		cancel()
		if err == nil {
			return true
		}
		sleep(ctx, time.Second)
	}
	if ctx.Err() == nil {
		w.n.cfg.Logger.Warn("publish receipts; rewritten later", "height", height, "err", err)
	}
	w.gap = true
	return false
}

// readMark reads the mark and its revision into w (revision 0: absent).
func (w *receiptsWriter) readMark(ctx context.Context) error {
	e, err := w.kv.Get(ctx, receiptsMarkKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		w.rev = 0
		return nil
	}
	if err != nil {
		return err
	}
	var m receiptsMark
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return fmt.Errorf("receipts mark %q: %w", e.Value(), err)
	}
	w.mark, w.rev = m.Height, e.Revision()
	return nil
}

// advance moves the mark to height unless a gap lies before it, never
// back: a deposed leader's writer finishing its queue must not undo its
// successor's mark.
func (w *receiptsWriter) advance(ctx context.Context, height uint64) {
	if w.gap || height <= w.mark {
		return
	}
	data, _ := json.Marshal(receiptsMark{Height: height})
	for range 3 {
		var rev uint64
		var err error
		if w.rev == 0 {
			rev, err = w.kv.Create(ctx, receiptsMarkKey, data)
		} else {
			rev, err = w.kv.Update(ctx, receiptsMarkKey, data, w.rev)
		}
		if err == nil {
			w.mark, w.rev = height, rev
			return
		}
		// Another writer moved it (or NATS failed): look again.
		if rerr := w.readMark(ctx); rerr != nil || w.mark >= height {
			return
		}
	}
}
