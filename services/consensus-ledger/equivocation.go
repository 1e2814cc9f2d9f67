package consensus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Equivocation (issue 12): a recorder that cosigns two different blocks at
// one height in one view could help a faulty leader fork the chain. Votes
// are answers to the leader alone, so each cosignature is seen by few; to
// make two of them meet, every cosignature a node holds is published on
// streams.CosignedSubject as a CosignedStatement (the leader publishes the
// votes it counted, and anyone holding a cosignature may publish it), and a
// refused LEDGER block's cosignatures are looked at too. Every node keeps,
// per (height, view, recorder), the block hash it first saw cosigned. A
// second hash for the same key is checked: only when both cosignatures
// verify against the recorder's key is it evidence, so a forged statement
// can never frame an honest recorder. Verification happens only on a
// conflict: an honest network spends no signature check on this.

// CosignedStatement is a block header and cosignatures of its hash. The
// hash is always recomputed from the header, so a cosignature binds the
// height and view it is judged at.
type CosignedStatement struct {
	Header       block.Header        `json:"header"`
	Cosignatures []block.Cosignature `json:"cosignatures"`
}

// EquivocationEvidence is the data of an alerts row of kind
// "equivocation": two statements by one recorder that anyone can
// re-verify with the recorder's public key.
type EquivocationEvidence struct {
	Recorder   string           `json:"recorder"`
	Height     uint64           `json:"height"`
	View       uint64           `json:"view"`
	Statements []SignedBlockRef `json:"statements"`
}

// SignedBlockRef is one cosignature with the header it signs.
type SignedBlockRef struct {
	Header      block.Header      `json:"header"`
	Hash        string            `json:"hash"`
	Cosignature block.Cosignature `json:"cosignature"`
}

var (
	metricEquivocations = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_equivocations_total", Help: "Recorders caught cosigning two blocks at one height and view (evidence kept).",
	}, []string{"institution", "recorder"})
	metricBadStatements = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "creditchain_consensus_bad_cosigned_statements_total", Help: "Cosigned statements whose signature did not verify (dropped, never evidence).",
	}, []string{"institution"})
)

const (
	// equivWindow bounds the heights kept around this node's head: older
	// ones are forgotten, further ones (spam) are ignored.
	equivWindow = 1024
	// equivMaxCosigs bounds one statement (recorders of one epoch).
	equivMaxCosigs = 256
)

type equivKey struct {
	height, view uint64
	recorder     string
}

type cosigned struct {
	SignedBlockRef
	verified bool
}

// equivocations is one node's record of the cosignatures it has seen.
type equivocations struct {
	n *Node

	mu        sync.Mutex
	seen      map[equivKey]*cosigned
	judging   map[equivKey]bool
	evidenced map[equivKey]bool
	head      uint64
	headAt    time.Time
	conflicts chan [2]*cosigned
}

// startEquivocation subscribes to cosigned statements and starts the judge
// of conflicts. The subscription's callback runs apart from voting and
// building, so statements never delay a block.
func (n *Node) startEquivocation(ctx context.Context) error {
	n.equiv = &equivocations{n: n, seen: map[equivKey]*cosigned{}, judging: map[equivKey]bool{},
		evidenced: map[equivKey]bool{}, conflicts: make(chan [2]*cosigned, 256)}
	if _, err := n.nc.Subscribe(streams.CosignedSubject, func(m *nats.Msg) {
		var st CosignedStatement
		if err := json.Unmarshal(m.Data, &st); err != nil {
			return
		}
		n.equiv.observe(ctx, &st)
	}); err != nil {
		return fmt.Errorf("subscribe %s: %w", streams.CosignedSubject, err)
	}
	go n.equiv.judge(ctx)
	return nil
}

// gossipVotes publishes the cosignatures a leader counted for b, its own
// included: one small core NATS message per proposal round.
func (n *Node) gossipVotes(b *block.Block, votes map[string]*Vote) {
	st := CosignedStatement{Header: b.Header}
	for _, v := range votes {
		if v != nil && v.Cosignature != nil {
			st.Cosignatures = append(st.Cosignatures, *v.Cosignature)
		}
	}
	if data, err := json.Marshal(st); err == nil {
		_ = n.nc.Publish(streams.CosignedSubject, data)
	}
}

// observeBlockData looks at the cosignatures of a LEDGER block this node
// refused: a second block at a height is where equivocation shows.
func (n *Node) observeBlockData(ctx context.Context, data []byte) {
	if n.equiv == nil {
		return
	}
	var b block.Block
	if err := json.Unmarshal(data, &b); err != nil {
		return
	}
	n.equiv.observe(ctx, &CosignedStatement{Header: b.Header, Cosignatures: b.Cosignatures})
}

// observe records the statement's cosignatures and queues any conflict.
func (e *equivocations) observe(ctx context.Context, st *CosignedStatement) {
	if st.Header.Chain != e.n.cfg.Genesis.ChainID || len(st.Cosignatures) > equivMaxCosigs {
		return
	}
	hash, err := st.Header.Hash(e.n.suite)
	if err != nil {
		return
	}
	head := e.headHeight(ctx)
	if st.Header.Height+equivWindow < head || st.Header.Height > head+equivWindow {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, cs := range st.Cosignatures {
		k := equivKey{st.Header.Height, st.Header.View, cs.Institution}
		c := &cosigned{SignedBlockRef: SignedBlockRef{Header: st.Header, Hash: hash, Cosignature: cs}}
		had, ok := e.seen[k]
		if !ok {
			e.seen[k] = c
			continue
		}
		if had.Hash == hash || e.evidenced[k] || e.judging[k] {
			continue
		}
		select {
		case e.conflicts <- [2]*cosigned{had, c}:
			e.judging[k] = true
		default:
			// The judge is far behind; the conflict shows again if the
			// statement is published again.
		}
	}
}

// headHeight is this node's head height, read at most once a second; it
// also forgets the cosignatures that fell out of the window.
func (e *equivocations) headHeight(ctx context.Context) uint64 {
	e.mu.Lock()
	head, fresh := e.head, time.Since(e.headAt) < time.Second
	e.mu.Unlock()
	if fresh {
		return head
	}
	var h int64
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := e.n.store.Pool.QueryRow(qctx, `SELECT height FROM head`).Scan(&h); err != nil {
		return head
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.head, e.headAt = uint64(h), time.Now()
	for k := range e.seen {
		if k.height+equivWindow < e.head {
			delete(e.seen, k)
			delete(e.evidenced, k)
		}
	}
	return e.head
}

// judge checks each conflict's two cosignatures. Two valid ones are
// evidence; an invalid one is dropped, and a valid one takes its place.
func (e *equivocations) judge(ctx context.Context) {
	for {
		var pair [2]*cosigned
		select {
		case <-ctx.Done():
			return
		case pair = <-e.conflicts:
		}
		had, got := pair[0], pair[1]
		k := equivKey{got.Header.Height, got.Header.View, got.Cosignature.Institution}
		var errHad error
		if !had.verified {
			errHad = e.verify(ctx, had)
		}
		errGot := e.verify(ctx, got)
		okHad, okGot := errHad == nil, errGot == nil
		if !okHad || !okGot {
			metricBadStatements.WithLabelValues(e.n.cfg.Key.Institution).Inc()
			e.n.cfg.Logger.Warn("cosigned statement does not verify: dropped", "institution", e.n.cfg.Key.Institution,
				"recorder", k.recorder, "height", k.height, "view", k.view, "err", errors.Join(errHad, errGot))
		}
		e.mu.Lock()
		delete(e.judging, k)
		switch {
		case okHad && okGot:
			had.verified, got.verified = true, true
			e.evidenced[k] = true
		case okHad:
			had.verified = true
		case okGot:
			got.verified = true
			e.seen[k] = got
		default:
			delete(e.seen, k)
		}
		e.mu.Unlock()
		if okHad && okGot {
			e.evidence(k, had, got)
		}
	}
}

// verify checks one cosignature against the recorder's key in the
// membership this node is at.
func (e *equivocations) verify(ctx context.Context, c *cosigned) error {
	epoch, err := e.n.store.Membership(ctx)
	if err != nil {
		return fmt.Errorf("read membership: %w", err)
	}
	m, ok := epoch.Member(c.Cosignature.Institution)
	if !ok {
		return fmt.Errorf("%s is not a member", c.Cosignature.Institution)
	}
	key, ok := m.Key(c.Cosignature.KeyID)
	if !ok {
		return fmt.Errorf("unknown key %s of %s", c.Cosignature.KeyID, m.ID)
	}
	sig, err := base64.RawURLEncoding.DecodeString(c.Cosignature.Sig)
	if err != nil {
		return fmt.Errorf("cosignature encoding: %w", err)
	}
	if !e.n.suite.Verify(key.Public, block.CosignMessage(c.Header.Chain, c.Hash), sig) {
		return fmt.Errorf("cosignature of %s over %s does not verify", m.ID, c.Hash)
	}
	return nil
}

// evidence keeps both signed statements, logs and counts the equivocation.
func (e *equivocations) evidence(k equivKey, a, b *cosigned) {
	ev := EquivocationEvidence{Recorder: k.recorder, Height: k.height, View: k.view,
		Statements: []SignedBlockRef{a.SignedBlockRef, b.SignedBlockRef}}
	data, _ := json.Marshal(ev)
	detail := fmt.Sprintf("recorder %s cosigned blocks %s and %s at height %d in view %d", k.recorder, a.Hash, b.Hash, k.height, k.view)
	metricEquivocations.WithLabelValues(e.n.cfg.Key.Institution, k.recorder).Inc()
	e.n.cfg.Logger.Error("equivocation: a recorder cosigned two blocks at one height and view", "institution", e.n.cfg.Key.Institution,
		"recorder", k.recorder, "height", k.height, "view", k.view, "hash_a", a.Hash, "hash_b", b.Hash)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.n.store.Pool.Exec(ctx, `INSERT INTO alerts (kind, height, detail, data) VALUES ($1,$2,$3,$4)`,
		"equivocation", int64(k.height), detail, data); err != nil {
		e.n.cfg.Logger.Error("keep equivocation evidence", "institution", e.n.cfg.Key.Institution, "err", err)
	}
}
