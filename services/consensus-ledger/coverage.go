package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Coverage (issue 12): a leader that leaves a due exit, or any submitted
// transaction, out of its proposal while claiming to have consumed it would
// censor it for good, since the next leader resumes TXS after the claimed
// sequence. A proposal covers the TXS sequences (the chain's TxsSeq as of
// its parent, p.TxsSeq]; its candidates must be exactly those messages, in
// order. Every recorder reads that range once per proposal, through one
// ordered consumer kept between proposals (one batched fetch, overlapped
// with re-executing the block), and compares the bytes. A proposal that
// omits a message is refused with the reason and evidenced; the leader,
// without a quorum, loses its term and an honest one commits the message.

var metricOmitted = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "creditchain_consensus_omitted_candidates_total", Help: "Proposals refused because they left out TXS messages they claimed to cover (evidence kept).",
}, []string{"institution", "proposer"})

// OmissionEvidence is the data of an alerts row of kind
// "omitted_candidate". Proposals are not signed, so it is this recorder's
// testimony; the TXS messages it names can be read by anyone.
type OmissionEvidence struct {
	Proposer   string       `json:"proposer"`
	View       uint64       `json:"view"`
	Height     uint64       `json:"height"`
	TxsFrom    uint64       `json:"txs_from"` // exclusive
	TxsTo      uint64       `json:"txs_to"`   // inclusive
	Candidates int          `json:"candidates"`
	Omitted    []OmittedTxs `json:"omitted"`
}

// OmittedTxs is a TXS message a proposal left out.
type OmittedTxs struct {
	Seq  uint64 `json:"seq"`
	TxID string `json:"tx_id"` // Nats-Msg-Id, which intake sets to the tx id
}

// coverageReader keeps the ordered consumer on TXS between proposals.
// Only vote uses it, under Node.mu.
type coverageReader struct {
	cons      jetstream.Consumer
	next      uint64 // the TXS sequence cons delivers next
	evidenced map[equivKey]bool
}

type txsMsg struct {
	seq  uint64
	id   string
	data []byte
}

// coverageRead is a read of a proposal's TXS range in flight.
type coverageRead struct {
	from, to uint64
	done     chan struct{}
	msgs     []txsMsg
	err      error
}

func (c *coverageRead) wait() {
	if c != nil {
		<-c.done
	}
}

// startCoverage starts reading the TXS range p covers on head, which must
// be this node's head (Node.mu held). The caller waits for it.
func (n *Node) startCoverage(ctx context.Context, head *pgstore.Head, p *chain.Proposal) (*coverageRead, error) {
	prev, err := n.cursorAt(ctx, head)
	if err != nil {
		return nil, err
	}
	if p.TxsSeq < prev {
		return nil, fmt.Errorf("proposal covers TXS up to %d, before the chain's %d", p.TxsSeq, prev)
	}
	c := &coverageRead{from: prev, to: p.TxsSeq, done: make(chan struct{})}
	// Honest proposals cover exactly their candidates: one more message is
	// enough to show an omission, and bounds what a bogus range costs.
	want := min(p.TxsSeq-prev, uint64(len(p.Candidates))+1)
	if want == 0 {
		close(c.done)
		return c, nil
	}
	go func() {
		defer close(c.done)
		c.msgs, c.err = n.readTxs(ctx, prev+1, p.TxsSeq, int(want))
	}()
	return c, nil
}

// cursorAt is the last TXS sequence the chain consumed as of head. The
// replicator sharing this node's database may have applied head before
// this node read it from LEDGER: catch up first, so that txsCursor is head's.
func (n *Node) cursorAt(ctx context.Context, head *pgstore.Head) (uint64, error) {
	var seq int64
	if err := n.store.Pool.QueryRow(ctx, `SELECT COALESCE(stream_seq, 0) FROM blocks WHERE height = $1`, int64(head.Height)).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read stream position of block %d: %w", head.Height, err)
	}
	if uint64(seq) <= n.ledgerSeq {
		return n.txsCursor, nil
	}
	if _, err := n.syncLocked(ctx); err != nil {
		return 0, err
	}
	var h int64
	if err := n.store.Pool.QueryRow(ctx, `SELECT height FROM head`).Scan(&h); err != nil {
		return 0, fmt.Errorf("read head: %w", err)
	}
	if uint64(h) != head.Height {
		return 0, fmt.Errorf("the chain moved past height %d while judging a proposal on it", head.Height)
	}
	return n.txsCursor, nil
}

// readTxs fetches up to want messages of TXS from sequence from on, none
// past to, in one batch.
func (n *Node) readTxs(ctx context.Context, from, to uint64, want int) ([]txsMsg, error) {
	c := &n.coverage
	if c.cons == nil || c.next != from {
		cons, err := n.js.OrderedConsumer(ctx, streams.TxsStream, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		})
		if err != nil {
			c.cons = nil
			return nil, fmt.Errorf("read TXS from %d: %w", from, err)
		}
		c.cons, c.next = cons, from
	}
	wait := time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = max(min(wait, time.Until(d)/2), 10*time.Millisecond)
	}
	batch, err := c.cons.Fetch(want, jetstream.FetchMaxWait(wait))
	if err != nil {
		c.cons = nil
		return nil, fmt.Errorf("fetch TXS %d..%d: %w", from, to, err)
	}
	var out []txsMsg
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			c.cons = nil
			return nil, fmt.Errorf("TXS metadata: %w", err)
		}
		c.next = md.Sequence.Stream + 1
		if md.Sequence.Stream <= to {
			out = append(out, txsMsg{seq: md.Sequence.Stream, id: m.Headers().Get(jetstream.MsgIDHeader), data: m.Data()})
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		c.cons = nil
		return nil, fmt.Errorf("fetch TXS %d..%d: %w", from, to, err)
	}
	return out, nil
}

// checkCoverage compares p's candidates with the TXS messages its range
// holds. An omission is refused and evidenced; other mismatches (a
// candidate not from TXS, a range past the stream's end) are refused.
func (n *Node) checkCoverage(p *chain.Proposal, c *coverageRead) error {
	c.wait()
	if c.err != nil {
		return c.err
	}
	var omitted []OmittedTxs
	j := 0
	for _, m := range c.msgs {
		if j < len(p.Candidates) && bytes.Equal(p.Candidates[j], m.data) {
			j++
			continue
		}
		omitted = append(omitted, OmittedTxs{Seq: m.seq, TxID: m.id})
	}
	if len(omitted) > 0 {
		n.evidenceOmission(p, c, omitted)
		return fmt.Errorf("proposal %d omits %d TXS message(s) of its range (%d, %d], first seq %d (tx %s)",
			p.Height, len(omitted), c.from, c.to, omitted[0].Seq, omitted[0].TxID)
	}
	if j < len(p.Candidates) {
		return fmt.Errorf("proposal %d has %d candidate(s) that are not the TXS messages of its range (%d, %d]",
			p.Height, len(p.Candidates)-j, c.from, c.to)
	}
	// An honest range ends at its last candidate's message: a range past
	// the stream's end would let the next leader skip what comes.
	if c.to > c.from && (len(c.msgs) == 0 || c.msgs[len(c.msgs)-1].seq != c.to) {
		return fmt.Errorf("proposal %d claims TXS up to %d, but its candidates end before that", p.Height, c.to)
	}
	return nil
}

// evidenceOmission keeps, logs and counts an omission, once per proposal
// (the leader retries the identical proposal until its term ends).
func (n *Node) evidenceOmission(p *chain.Proposal, c *coverageRead, omitted []OmittedTxs) {
	k := equivKey{p.Height, p.View, p.Proposer}
	cr := &n.coverage
	if cr.evidenced == nil {
		cr.evidenced = map[equivKey]bool{}
	}
	if cr.evidenced[k] {
		return
	}
	for old := range cr.evidenced {
		if old.height+equivWindow < p.Height {
			delete(cr.evidenced, old)
		}
	}
	cr.evidenced[k] = true
	ev := OmissionEvidence{Proposer: p.Proposer, View: p.View, Height: p.Height, TxsFrom: c.from, TxsTo: c.to,
		Candidates: len(p.Candidates), Omitted: omitted}
	data, _ := json.Marshal(ev)
	detail := fmt.Sprintf("leader %s in view %d proposed block %d covering TXS (%d, %d] without %d of its messages (first seq %d, tx %s)",
		p.Proposer, p.View, p.Height, c.from, c.to, len(omitted), omitted[0].Seq, omitted[0].TxID)
	metricOmitted.WithLabelValues(n.cfg.Key.Institution, p.Proposer).Inc()
	n.cfg.Logger.Error("proposal omits TXS messages: refused", "institution", n.cfg.Key.Institution, "proposer", p.Proposer,
		"view", p.View, "height", p.Height, "omitted", len(omitted), "first_seq", omitted[0].Seq, "first_tx", omitted[0].TxID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.store.Pool.Exec(ctx, `INSERT INTO alerts (kind, height, detail, data) VALUES ($1,$2,$3,$4)`,
		"omitted_candidate", int64(p.Height), detail, data); err != nil {
		n.cfg.Logger.Error("keep omission evidence", "institution", n.cfg.Key.Institution, "err", err)
	}
}
