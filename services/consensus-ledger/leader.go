package consensus

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var tracer = telemetry.Tracer("consensus-ledger")

// campaign runs for leadership for as long as ctx lives. While leader, it
// produces blocks; losing the etcd session ends the term.
func (n *Node) campaign(ctx context.Context) {
	for ctx.Err() == nil {
		if !n.mayCampaign(ctx) {
			sleep(ctx, time.Second)
			continue
		}
		s, err := concurrency.NewSession(n.etcd, concurrency.WithTTL(3), concurrency.WithContext(ctx))
		if err != nil {
			sleep(ctx, time.Second)
			continue
		}
		e := concurrency.NewElection(s, registry.ElectionPrefix(n.cfg.Genesis.ChainID))
		if err := e.Campaign(ctx, n.cfg.Key.Institution); err != nil {
			s.Close()
			sleep(ctx, time.Second)
			continue
		}
		view := uint64(e.Rev())
		n.cfg.Logger.Info("elected leader", "institution", n.cfg.Key.Institution, "view", view)
		lctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-s.Done():
			case <-lctx.Done():
			}
			cancel()
		}()
		err = n.lead(lctx, view)
		cancel()
		if err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("leadership ended", "institution", n.cfg.Key.Institution, "view", view, "err", err)
		}
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		_ = e.Resign(rctx)
		rcancel()
		s.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// lead produces blocks in view until ctx ends or the stream shows that
// another leader appended.
func (n *Node) lead(ctx context.Context, view uint64) error {
	n.mu.Lock()
	last, err := n.syncLocked(ctx)
	cursor := n.txsCursor
	n.mu.Unlock()
	if err != nil {
		return err
	}
	receiptsKV, err := n.js.KeyValue(ctx, streams.ReceiptsBucket)
	if err != nil {
		return err
	}
	// Receipts are written behind the leader loop, after those of the
	// blocks since the mark, which the previous leader may have died before
	// writing. The writer outlives a lost term long enough to finish what
	// was queued: those blocks are committed.
	receipts := make(chan receiptJob, 16)
	written := make(chan struct{})
	go n.writeReceipts(context.WithoutCancel(ctx), receiptsKV, mustHeight(ctx, n), receipts, written)
	defer func() {
		close(receipts)
		select {
		case <-written:
		case <-time.After(30 * time.Second):
		}
	}()
	txs, err := n.js.Stream(ctx, streams.TxsStream)
	if err != nil {
		return err
	}
	cons, err := txs.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cursor + 1,
	})
	if err != nil {
		return fmt.Errorf("read TXS from %d: %w", cursor+1, err)
	}
	var pending []candidate
	for ctx.Err() == nil {
		more, err := n.collect(ctx, cons, pending)
		if err != nil {
			return err
		}
		pending = append(pending, more...)
		take := fit(pending, n.cfg.MaxTxs, n.cfg.MaxBytes)
		datas := make([][]byte, take)
		traces := make([]trace.SpanContext, take)
		for i := range datas {
			datas[i] = pending[i].data
			traces[i] = pending[i].trace
		}
		txsSeq := cursor
		if take > 0 {
			txsSeq = pending[take-1].seq
		}
		if f := n.cfg.AdversaryCandidates; f != nil {
			datas = f(datas) // adversary tests only: see Config
		}
		// The block's span continues its transactions' traces (intake put
		// them in the TXS headers); propose carries it on to LEDGER.
		bctx, span := telemetry.StartLinked(ctx, tracer, "consensus.block", traces,
			trace.WithAttributes(attribute.String("creditchain.institution", n.cfg.Key.Institution),
				attribute.Int64("creditchain.view", int64(view)), attribute.Int("creditchain.candidates", take)))
		appended, err := n.propose(bctx, view, last, datas, txsSeq, receipts)
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		} else if appended == 0 {
			span.SetStatus(codes.Error, "no quorum")
		}
		span.End()
		if err != nil {
			return err
		}
		last, cursor = appended, txsSeq
		pending = pending[take:]
	}
	return ctx.Err()
}

// candidate is a transaction read from TXS with its stream sequence and
// the trace intake started for it.
type candidate struct {
	data  []byte
	seq   uint64
	trace trace.SpanContext
}

// fit returns how many of cands fit in one block.
func fit(cands []candidate, maxTxs, maxBytes int) int {
	bytes := 0
	for i, c := range cands {
		if i == maxTxs || (i > 0 && bytes+len(c.data) > maxBytes) {
			return i
		}
		bytes += len(c.data)
	}
	return len(cands)
}

func mustHeight(ctx context.Context, n *Node) uint64 {
	h, err := n.store.Head(ctx)
	if err != nil {
		return 0
	}
	return h.Height
}

// collect reads more candidates: when none is pending it waits up to
// IdleInterval for the first (none means an empty block), then up to
// BlockInterval for more, until a block's worth is pending. A fetch only
// returns once its batch is full or its wait is over, so the wait for the
// first transaction asks for one: asking for a block's worth would hold
// every quiet-time transaction for the whole IdleInterval.
func (n *Node) collect(ctx context.Context, cons jetstream.Consumer, pending []candidate) ([]candidate, error) {
	var out []candidate
	deadline := time.Now().Add(n.cfg.IdleInterval)
	if len(pending) > 0 {
		deadline = time.Now().Add(n.cfg.BlockInterval)
	}
	for fit(append(pending, out...), n.cfg.MaxTxs, n.cfg.MaxBytes) == len(pending)+len(out) && len(pending)+len(out) < n.cfg.MaxTxs {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		want := n.cfg.MaxTxs - len(pending) - len(out)
		if len(pending)+len(out) == 0 {
			want = 1
		}
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(max(wait, 10*time.Millisecond)))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("fetch TXS: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			out = append(out, candidate{data: m.Data(), seq: md.Sequence.Stream, trace: telemetry.SpanContext(m.Headers())})
			got++
		}
		if got > 0 && len(pending) == 0 && deadline.After(time.Now().Add(n.cfg.BlockInterval)) {
			deadline = time.Now().Add(n.cfg.BlockInterval)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return out, nil
}

// propose builds the next block from candidates, gathers a quorum of
// cosignatures and appends it to LEDGER. It returns the new LEDGER sequence,
// or 0 when no quorum was reached (the caller retries with the same
// candidates). An append refused by the stream ends this leader's term.
func (n *Node) propose(ctx context.Context, view, last uint64, candidates [][]byte, txsSeq uint64, receipts chan<- receiptJob) (uint64, error) {
	n.mu.Lock()
	head, err := n.store.Head(ctx)
	if err != nil {
		n.mu.Unlock()
		return 0, err
	}
	now := n.cfg.Clock().UTC()
	prevTime, _ := txn.ParseTime(head.Header.Time)
	if !now.After(prevTime) {
		now = prevTime.Add(time.Millisecond)
	}
	p := &chain.Proposal{Height: head.Height + 1, Prev: head.Hash, Time: txn.FormatTime(now), View: view,
		Proposer: n.cfg.Key.Institution, Candidates: candidates, TxsSeq: txsSeq}
	tBuild := time.Now()
	built, err := n.applier.Build(ctx, head, p)
	dBuild := time.Since(tBuild)
	if err != nil {
		n.mu.Unlock()
		return 0, fmt.Errorf("build block %d: %w", p.Height, err)
	}
	p.Hash = built.Block.Hash
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("creditchain.height", int64(p.Height)), attribute.String("creditchain.block_hash", p.Hash))
	began := time.Now()
	// The leader's own cosignature obeys its persisted vote too: a second
	// block at one height in one view would be equivocation.
	var voted string
	if err := n.store.Pool.QueryRow(ctx, `INSERT INTO votes (height, view, hash) VALUES ($1,$2,$3)
		ON CONFLICT (height, view) DO UPDATE SET height = votes.height RETURNING hash`,
		int64(p.Height), int64(view), p.Hash).Scan(&voted); err != nil {
		n.mu.Unlock()
		return 0, fmt.Errorf("persist own vote for block %d: %w", p.Height, err)
	} else if voted != p.Hash {
		n.mu.Unlock()
		return 0, fmt.Errorf("already voted for %s at height %d in view %d", voted, p.Height, view)
	}
	own, err := n.sign(built.Block)
	n.mu.Unlock()
	if err != nil {
		return 0, err
	}
	epoch, err := n.store.Membership(ctx)
	if err != nil {
		return 0, err
	}
	if !isActiveRecorder(epoch, n.cfg.Key.Institution) {
		return 0, errNotRecorder
	}
	need, err := membership.QuorumSize(n.store.Genesis.Quorum, len(epoch.Recorders()))
	if err != nil {
		return 0, err
	}
	// Retry the identical proposal: recorders that already voted answer the
	// same, and a changed proposal in the same view would split the votes.
	// Past half the allowed clock skew the term ends, and a new view starts.
	giveUp := time.Now().Add(n.cfg.MaxSkew / 2)
	var votes map[string]*Vote
	attempt := 0
	for {
		var skewed bool
		votes, skewed = n.gather(ctx, p, built.Block, epoch, need-1)
		votes[n.cfg.Key.Institution] = own
		n.gossipVotes(built.Block, votes)
		if len(votes) >= need {
			break
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if skewed || time.Now().After(giveUp) {
			return 0, fmt.Errorf("no quorum for block %d: %d of %d votes", p.Height, len(votes), need)
		}
		if attempt == 0 {
			n.cfg.Logger.Warn("no quorum yet; retrying the same proposal", "height", p.Height, "votes", len(votes), "need", need)
		}
		attempt++
		sleep(ctx, 200*time.Millisecond)
	}
	dVotes := time.Since(began)
	b := built.Block
	var notes []string
	for _, r := range epoch.Recorders() { // deterministic order
		if v, ok := votes[r.ID]; ok {
			b.Cosignatures = append(b.Cosignatures, *v.Cosignature)
			notes = append(notes, v.Checkpoint)
		}
	}
	if b.Checkpoint, err = checkpoint.Merge(notes...); err != nil {
		return 0, err
	}
	data, err := json.Marshal(b)
	if err != nil {
		return 0, err
	}
	msg := nats.NewMsg(streams.LedgerSubject)
	msg.Data = data
	msg.Header.Set(streams.HeaderTxsSeq, strconv.FormatUint(txsSeq, 10))
	telemetry.Inject(ctx, msg.Header)
	ack, err := n.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequence(last), jetstream.WithMsgID(b.Hash))
	if err != nil {
		return 0, fmt.Errorf("append block %d (expected last sequence %d): %w", p.Height, last, err)
	}
	dPub := time.Since(began) - dVotes
	tApply := time.Now()
	metricAppended.WithLabelValues(n.cfg.Key.Institution).Inc()
	metricBlockSeconds.WithLabelValues(n.cfg.Key.Institution).Observe(time.Since(began).Seconds())
	metricTxs.WithLabelValues(n.cfg.Key.Institution, "committed").Add(float64(len(b.Txs)))
	metricTxs.WithLabelValues(n.cfg.Key.Institution, "rejected").Add(float64(len(b.Rejected)))
	n.mu.Lock()
	if n.ledgerSeq == last {
		u := built.Update
		u.StreamSeq = ack.Sequence
		if err := n.store.ApplyBlock(ctx, u, nil); err == nil {
			n.ledgerSeq = ack.Sequence
			n.txsCursor = txsSeq
			n.stats.add(func(s *Stats) { s.BlocksApplied++; s.BlocksLed++ })
			n.blockApplied()
		}
	}
	n.mu.Unlock()
	dApply := time.Since(tApply)
	ids := make([]string, len(built.Update.Txs))
	for i, tx := range built.Update.Txs {
		ids[i] = tx.ID
	}
	select {
	case receipts <- receiptJob{block: b, ids: ids}:
	case <-ctx.Done():
	}
	// Where a block's time goes, at debug level, for tuning.
	n.cfg.Logger.Debug("block appended", "height", p.Height, "txs", len(b.Txs), "build", dBuild,
		"votes", dVotes, "append", dPub, "apply", dApply)
	return ack.Sequence, nil
}

// gather asks every other recorder of the epoch for its vote, in parallel,
// and returns once want of them have voted or all have answered: a slow
// recorder must not slow down every block while a quorum is there.
func (n *Node) gather(ctx context.Context, p *chain.Proposal, b *block.Block, epoch *membership.Epoch, want int) (votes map[string]*Vote, skewed bool) {
	votes = map[string]*Vote{}
	data, err := encodeProposal(p)
	if err != nil {
		return votes, false
	}
	type answer struct {
		id string
		v  *Vote
	}
	answers := make(chan answer)
	asked := 0
	for _, r := range epoch.Recorders() {
		if r.ID == n.cfg.Key.Institution {
			continue
		}
		asked++
		go func(id string) {
			rctx, cancel := context.WithTimeout(ctx, n.cfg.VoteTimeout)
			defer cancel()
			var v *Vote
			if resp, err := n.nc.RequestWithContext(rctx, streams.VoteSubjectPrefix+id, data); err == nil {
				v, _ = decodeVote(resp.Data)
			}
			select {
			case answers <- answer{id, v}:
			case <-ctx.Done():
			}
		}(r.ID)
	}
	received := 0
	for ; received < asked && len(votes) < want; received++ {
		var a answer
		select {
		case a = <-answers:
		case <-ctx.Done():
			return votes, skewed
		}
		if a.v != nil && strings.HasPrefix(a.v.Refusal, refusalSkew) {
			skewed = true
		}
		if a.v == nil || a.v.Cosignature == nil || a.v.Cosignature.Institution != a.id {
			if a.v != nil && a.v.Refusal != "" {
				n.cfg.Logger.Warn("vote refused", "recorder", a.id, "height", p.Height, "reason", a.v.Refusal)
			}
			continue
		}
		if m, ok := epoch.Member(a.id); !ok {
			continue
		} else if err := n.checkVote(a.v, m, b); err != nil {
			n.cfg.Logger.Error("bad vote: not counted", "recorder", a.id, "height", p.Height, "err", err)
			metricBadVotes.WithLabelValues(n.cfg.Key.Institution, a.id).Inc()
			n.evidence("bad_vote", p.Height, fmt.Sprintf("recorder %s: %v", a.id, err))
			continue
		}
		votes[a.id] = a.v
	}
	// The remaining askers are still waiting to hand over their answers.
	go func(left int) {
		for ; left > 0; left-- {
			select {
			case <-answers:
			case <-time.After(n.cfg.VoteTimeout + time.Second):
				return
			}
		}
	}(asked - received)
	return votes, skewed
}

func hexRoot(s string) ([]byte, error) { return hex.DecodeString(s) }

var _ = block.CosignMessage
