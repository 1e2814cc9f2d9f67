package consensus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// Node is one running consensus-ledger instance.
type Node struct {
	cfg     Config
	suite   suite.Suite
	key     *suite.PrivateKey
	store   *pgstore.Store
	applier *chain.Applier
	nc      *nats.Conn
	js      jetstream.JetStream
	ledger  jetstream.Stream
	etcd    *clientv3.Client

	// mu serialises everything that reads or moves the local head: applying
	// blocks from the stream, voting and building.
	mu        sync.Mutex
	ledgerSeq uint64 // last LEDGER sequence this node has looked at
	txsCursor uint64 // last TXS sequence consumed by the chain as of ledgerSeq

	leader leaderView
	stats  Stats
	// epochWake wakes the publisher of membership epochs after a block.
	epochWake chan struct{}

	// built keeps the blocks this node built while voting, by hash, so that
	// applying them from LEDGER does not execute them again; lastVote
	// answers a leader's retry of the identical proposal without rebuilding.
	built    map[string]*chain.Built
	lastVote struct {
		height, view uint64
		hash         string
		vote         *Vote
	}
	// equiv catches recorders that cosign two blocks at one height and
	// view; coverage checks that proposals leave out no TXS message.
	equiv    *equivocations
	coverage coverageReader
}

// Stats counts what this node did; tests and metrics read it.
type Stats struct {
	mu            sync.Mutex
	BlocksApplied int
	BlocksLed     int
	Votes         int
	Refused       map[string]int
}

func (s *Stats) add(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// Snapshot returns a copy of the counters.
func (n *Node) Snapshot() (applied, led, votes int) {
	n.stats.mu.Lock()
	defer n.stats.mu.Unlock()
	return n.stats.BlocksApplied, n.stats.BlocksLed, n.stats.Votes
}

// Start opens the node's state, connects to NATS and etcd and starts voting,
// following the ledger and campaigning for leadership. It returns once the node
// is serving; Close (or ctx) stops it.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg.defaults()
	su, err := suite.ByName(cfg.Genesis.CryptoSuite)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, suite: su, key: cfg.Key.PrivateKey(), built: map[string]*chain.Built{}, epochWake: make(chan struct{}, 1)}
	n.stats.Refused = map[string]int{}
	if n.store, err = chain.OpenReplica(ctx, cfg.DatabaseURL, cfg.Genesis); err != nil {
		return nil, fmt.Errorf("consensus %s: %w", cfg.Key.Institution, err)
	}
	if n.nc, err = nats.Connect(cfg.NATSURL, nats.Name("consensus-ledger "+cfg.Key.Institution), nats.MaxReconnects(-1)); err != nil {
		n.Close()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		n.Close()
		return nil, err
	}
	if err := streams.Ensure(ctx, n.js, streams.Options{}); err != nil {
		n.Close()
		return nil, err
	}
	if n.ledger, err = n.js.Stream(ctx, streams.LedgerStream); err != nil {
		n.Close()
		return nil, err
	}
	if n.etcd, err = clientv3.New(clientv3.Config{Endpoints: cfg.EtcdEndpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}); err != nil {
		n.Close()
		return nil, fmt.Errorf("connect etcd: %w", err)
	}
	sidecars, err := n.js.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		n.Close()
		return nil, err
	}
	// Person sidecars too: when this node shares its institution's replica
	// database, whichever of the two applies a block writes all of it.
	n.applier = chain.NewApplier(n.store, chain.KVSidecars(sidecars))
	n.applier.Institution = cfg.Key.Institution
	if err := n.restoreCursor(ctx); err != nil {
		n.Close()
		return nil, err
	}
	if _, err := n.nc.Subscribe(streams.VoteSubjectPrefix+cfg.Key.Institution, n.handleProposal); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.startEquivocation(ctx); err != nil {
		n.Close()
		return nil, err
	}
	go n.observeLeader(ctx)
	go n.publishEpochs(ctx)
	go n.followLedger(ctx)
	go n.campaign(ctx)
	return n, nil
}

// Close stops the node's connections. Goroutines end with the Start context.
func (n *Node) Close() {
	if n.nc != nil {
		n.nc.Close()
	}
	if n.etcd != nil {
		n.etcd.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// Store exposes the node's replica (tests read it).
func (n *Node) Store() *pgstore.Store { return n.store }

// restoreCursor finds where this node stands in LEDGER and TXS after a
// restart: the stream sequence of its head block and that block's cursor.
func (n *Node) restoreCursor(ctx context.Context) error {
	var seq int64
	if err := n.store.Pool.QueryRow(ctx, `SELECT COALESCE(MAX(stream_seq), 0) FROM blocks`).Scan(&seq); err != nil {
		return fmt.Errorf("read stream position: %w", err)
	}
	n.ledgerSeq = uint64(seq)
	if seq == 0 {
		return nil
	}
	msg, err := n.ledger.GetMsg(ctx, uint64(seq))
	if err != nil {
		return fmt.Errorf("read LEDGER message %d: %w", seq, err)
	}
	n.txsCursor = txsSeqOf(msg.Header)
	return nil
}

func txsSeqOf(h nats.Header) uint64 {
	v, _ := strconv.ParseUint(h.Get(streams.HeaderTxsSeq), 10, 64)
	return v
}

// followLedger applies new LEDGER blocks as they arrive. Core NATS delivers
// the stream's messages as a wake-up; the periodic tick covers a missed one.
func (n *Node) followLedger(ctx context.Context) {
	wake := make(chan struct{}, 1)
	sub, err := n.nc.Subscribe(streams.LedgerSubject, func(*nats.Msg) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err == nil {
		defer sub.Unsubscribe()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		n.mu.Lock()
		if _, err := n.syncLocked(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("sync ledger", "institution", n.cfg.Key.Institution, "err", err)
		}
		n.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// syncLocked applies every LEDGER message after ledgerSeq and returns the
// stream's last sequence. Blocks that fail verification are refused, counted
// and kept as evidence; they never move the head.
func (n *Node) syncLocked(ctx context.Context) (uint64, error) {
	info, err := n.ledger.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("ledger info: %w", err)
	}
	last := info.State.LastSeq
	for n.ledgerSeq < last {
		seq := n.ledgerSeq + 1
		msg, err := n.ledger.GetMsg(ctx, seq)
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				n.ledgerSeq = seq
				continue
			}
			return last, fmt.Errorf("read LEDGER %d: %w", seq, err)
		}
		if err := n.applyTraced(ctx, msg.Header, msg.Data, seq); err != nil {
			var ref *chain.RefusedError
			if !errors.As(err, &ref) {
				return last, err
			}
			n.refuse(ctx, ref, msg.Data)
		} else {
			n.txsCursor = max(n.txsCursor, txsSeqOf(msg.Header))
		}
		n.ledgerSeq = seq
	}
	return last, nil
}

// applyTraced applies a LEDGER message in a span of the block's trace,
// taken from the message headers the leader wrote.
func (n *Node) applyTraced(ctx context.Context, h nats.Header, data []byte, seq uint64) error {
	ctx, span := tracer.Start(telemetry.Extract(ctx, h), "consensus.apply", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("creditchain.institution", n.cfg.Key.Institution), attribute.Int64("creditchain.stream_seq", int64(seq))))
	defer span.End()
	err := n.applyMsg(ctx, data, seq)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

func (n *Node) applyMsg(ctx context.Context, data []byte, seq uint64) error {
	b, err := block.DecodeBlock(data)
	if err != nil {
		return &chain.RefusedError{Kind: chain.RefusedInvalid, Err: err}
	}
	if built, ok := n.built[b.Hash]; ok {
		err = n.applier.ApplyBuilt(ctx, b, built.Update, seq)
	} else {
		err = n.applier.Apply(ctx, b, seq)
	}
	for h, bl := range n.built {
		if bl.Block.Header.Height <= b.Header.Height {
			delete(n.built, h)
		}
	}
	if errors.Is(err, chain.ErrAlreadyApplied) {
		return nil
	}
	if err == nil {
		n.stats.add(func(s *Stats) { s.BlocksApplied++ })
		n.blockApplied()
	}
	return err
}

// refuse keeps a refused block as evidence (DESIGN 2: alert, never apply).
func (n *Node) refuse(ctx context.Context, ref *chain.RefusedError, data []byte) {
	n.stats.add(func(s *Stats) { s.Refused[ref.Kind]++ })
	metricRefusedBlocks.WithLabelValues(n.cfg.Key.Institution, ref.Kind).Inc()
	n.cfg.Logger.Error("refused block from LEDGER", "institution", n.cfg.Key.Institution, "kind", ref.Kind, "height", ref.Height, "err", ref.Err)
	_, _ = n.store.Pool.Exec(ctx, `INSERT INTO alerts (kind, height, detail, data) VALUES ($1,$2,$3,$4)`,
		"block_refused_"+ref.Kind, int64(ref.Height), ref.Error(), data)
	n.observeBlockData(ctx, data)
}

// evidence keeps a record of misbehaviour in this node's alerts table.
func (n *Node) evidence(kind string, height uint64, detail string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = n.store.Pool.Exec(ctx, `INSERT INTO alerts (kind, height, detail) VALUES ($1,$2,$3)`, kind, int64(height), detail)
}
