// Package replicator keeps one institution's PostgreSQL replica of the ledger
// (DESIGN 3): a durable JetStream consumer on LEDGER whose every block is
// verified (links, roots, epoch, cosignature quorum, every transaction
// re-executed) and applied in one PostgreSQL transaction, acknowledged only
// after commit. A block that does not verify is refused, kept as evidence and
// counted; it never moves the head.
package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var tracer = telemetry.Tracer("replicator")

// Config is what a replicator needs.
type Config struct {
	Institution string
	Genesis     *block.Genesis
	DatabaseURL string
	NATSURL     string
	// Consumer only: the streams exist already and this replicator's NATS
	// user may do no more than consume LEDGER and read SIDECARS (an
	// institution's own credentials; docs/membership.md), so it must not try
	// to create or update them.
	ConsumerOnly bool
	Logger       *slog.Logger
}

// InboxPrefix is where an institution's replicator receives its replies:
// its NATS user may subscribe there and nowhere else, so it cannot read
// other clients' replies.
func InboxPrefix(institution string) string { return "_INBOX." + ConsumerName(institution) }

// Replicator is a running replicator.
type Replicator struct {
	cfg     Config
	store   *pgstore.Store
	applier *chain.Applier
	nc      *nats.Conn
	js      jetstream.JetStream
	cc      jetstream.ConsumeContext

	mu      sync.Mutex
	status  Status
	applied chan struct{}
}

// Status is what the replicator reports: height, lag, refusals.
type Status struct {
	Height      uint64
	StreamSeq   uint64
	Lag         uint64 // LEDGER messages not yet handled
	Refused     map[string]int
	LastApplyMs float64
}

// ConsumerName is the durable consumer of an institution's replica.
func ConsumerName(institution string) string { return "replica-" + institution }

// Start opens the replica and starts consuming.
func Start(ctx context.Context, cfg Config) (*Replicator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Replicator{cfg: cfg, applied: make(chan struct{}, 1)}
	r.status.Refused = map[string]int{}
	var err error
	if r.store, err = chain.OpenReplica(ctx, cfg.DatabaseURL, cfg.Genesis); err != nil {
		return nil, fmt.Errorf("replicator %s: %w", cfg.Institution, err)
	}
	if r.nc, err = nats.Connect(cfg.NATSURL, nats.Name("replicator "+cfg.Institution), nats.MaxReconnects(-1),
		nats.CustomInboxPrefix(InboxPrefix(cfg.Institution))); err != nil {
		r.Close()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	if r.js, err = jetstream.New(r.nc); err != nil {
		r.Close()
		return nil, err
	}
	if !cfg.ConsumerOnly {
		if err := streams.Ensure(ctx, r.js, streams.Options{}); err != nil {
			r.Close()
			return nil, err
		}
	}
	sidecars, err := r.js.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.applier = chain.NewApplier(r.store, chain.KVSidecars(sidecars))

	r.applier.Institution = cfg.Institution

	head, err := r.store.Head(ctx)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.status.Height = head.Height
	cons, err := r.js.CreateOrUpdateConsumer(ctx, streams.LedgerStream, jetstream.ConsumerConfig{
		Durable:       ConsumerName(cfg.Institution),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// A replicator killed mid-block holds up its institution's copy
		// until the block is redelivered, AckWait later: short, and a
		// long apply says it is still working (handle).
		AckWait:       ackWait,
		MaxAckPending: 1, // blocks apply strictly in order
	})
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("ledger consumer: %w", err)
	}
	if r.cc, err = cons.Consume(r.handle); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// ackWait is how long LEDGER waits for a replicator's ack before it
// delivers the block again.
const ackWait = 5 * time.Second

func (r *Replicator) handle(m jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	md, err := m.Metadata()
	if err != nil {
		_ = m.Nak()
		return
	}
	// The apply span continues the block's trace from the LEDGER headers.
	ctx, span := tracer.Start(telemetry.Extract(ctx, m.Headers()), "replicator.apply", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("creditchain.institution", r.cfg.Institution), attribute.Int64("creditchain.stream_seq", int64(md.Sequence.Stream))))
	defer span.End()
	start := time.Now()
	working := make(chan struct{})
	go func() {
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-working:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	err = r.apply(ctx, m.Data(), md.Sequence.Stream)
	close(working)
	if err != nil && !errors.Is(err, chain.ErrAlreadyApplied) {
		span.SetStatus(codes.Error, err.Error())
	}
	var ref *chain.RefusedError
	switch {
	case err == nil || errors.Is(err, chain.ErrAlreadyApplied):
		_ = m.Ack()
	case errors.As(err, &ref):
		r.cfg.Logger.ErrorContext(ctx, "refused block", "institution", r.cfg.Institution, "kind", ref.Kind, "height", ref.Height, "err", ref.Err)
		_, _ = r.store.Pool.Exec(ctx, `INSERT INTO alerts (kind, height, detail, data) VALUES ($1,$2,$3,$4)`,
			"block_refused_"+ref.Kind, int64(ref.Height), ref.Error(), m.Data())
		r.mu.Lock()
		r.status.Refused[ref.Kind]++
		r.mu.Unlock()
		metricRefused.WithLabelValues(r.cfg.Institution, ref.Kind).Inc()
		_ = m.Ack() // kept as evidence above; never applied
	default:
		r.cfg.Logger.WarnContext(ctx, "apply block failed; will retry", "institution", r.cfg.Institution, "seq", md.Sequence.Stream, "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	r.mu.Lock()
	r.status.StreamSeq = md.Sequence.Stream
	r.status.Lag = md.NumPending
	if err == nil {
		r.status.LastApplyMs = float64(time.Since(start).Microseconds()) / 1000
		metricApply.WithLabelValues(r.cfg.Institution).Observe(time.Since(start).Seconds())
	}
	metricHeight.WithLabelValues(r.cfg.Institution).Set(float64(r.status.Height))
	metricLag.WithLabelValues(r.cfg.Institution).Set(float64(md.NumPending))
	r.mu.Unlock()
	select {
	case r.applied <- struct{}{}:
	default:
	}
}

func (r *Replicator) apply(ctx context.Context, data []byte, seq uint64) error {
	b, err := block.DecodeBlock(data)
	if err != nil {
		return &chain.RefusedError{Kind: chain.RefusedInvalid, Err: err}
	}
	err = r.applier.Apply(ctx, b, seq)
	if err != nil && !errors.Is(err, chain.ErrAlreadyApplied) {
		return err
	}
	// Already applied counts too: a recorder's consensus state may share
	// this database and have written the block first.
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("creditchain.height", int64(b.Header.Height)))
	r.mu.Lock()
	r.status.Height = max(r.status.Height, b.Header.Height)
	r.mu.Unlock()
	return err
}

// Status returns the replicator's counters.
func (r *Replicator) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Refused = map[string]int{}
	for k, v := range r.status.Refused {
		s.Refused[k] = v
	}
	return s
}

// Store is the replica.
func (r *Replicator) Store() *pgstore.Store { return r.store }

// Close stops consuming; an unacknowledged block is redelivered on restart.
func (r *Replicator) Close() {
	if r.cc != nil {
		r.cc.Stop()
	}
	if r.nc != nil {
		r.nc.Close()
	}
	if r.store != nil {
		r.store.Close()
	}
}
