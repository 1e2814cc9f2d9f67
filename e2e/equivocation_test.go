package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// recorderIDs are the ids of the dev network's four recorders.
func recorderIDs(n *devnet.Network) []string {
	var out []string
	for _, i := range []int{court, market, tax, ecology} {
		out = append(out, n.Institutions[i].Member.ID)
	}
	return out
}

// alertData reads the data of every alert of kind at each running
// recorder's consensus state.
func alertData(t *testing.T, n *devnet.Network, kind string) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	for _, id := range recorderIDs(n) {
		c := n.Consensus(id)
		if c == nil {
			continue
		}
		rows, err := c.Store().Pool.Query(context.Background(), `SELECT COALESCE(data, ''::bytea) FROM alerts WHERE kind = $1`, kind)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var d []byte
			if err := rows.Scan(&d); err != nil {
				t.Fatal(err)
			}
			out[id] = append(out[id], d)
		}
		rows.Close()
	}
	return out
}

// counterSum adds up the in-process Prometheus counter name over the
// series whose label has value (any series when label is empty).
func counterSum(t *testing.T, name, label, value string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := label == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					ok = true
				}
			}
			if ok {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// statement is what the test publishes on the cosigned subject, written
// here field by field as any client would (services/consensus-ledger).
type statement struct {
	Header       block.Header        `json:"header"`
	Cosignatures []block.Cosignature `json:"cosignatures"`
}

// TestEquivocationEvidenced: a recorder's key cosigns two different blocks
// at one height and view, as an equivocating recorder would, and the
// statements reach the network on the cosigned subject. Every recorder keeps
// evidence that anyone can re-verify, logs it and counts it; a statement
// forged in another recorder's name frames no one; the chain stays live
// and every replica keeps the same head. An honest network first runs
// without any evidence.
func TestEquivocationEvidenced(t *testing.T) {
	began := time.Now()
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	su, _ := suite.ByName(n.Genesis.CryptoSuite)
	l := startLoad(t, n, 20, 61000)
	time.Sleep(2 * time.Second)
	checkNothingLost(t, n, l.finish())
	waitConverged(t, n, 20*time.Second)
	for _, kind := range []string{"equivocation", "omitted_candidate", "bad_vote"} {
		if got := alertData(t, n, kind); len(got) > 0 {
			t.Fatalf("an honest network kept %s evidence: %d recorder(s)", kind, len(got))
		}
	}

	rogue, honest := n.Institutions[market], n.Institutions[tax]
	equivBefore := counterSum(t, "creditchain_consensus_equivocations_total", "recorder", rogue.Member.ID)
	framedBefore := counterSum(t, "creditchain_consensus_equivocations_total", "recorder", honest.Member.ID)
	badBefore := counterSum(t, "creditchain_consensus_bad_cosigned_statements_total", "", "")

	// A committed block the honest recorder cosigned: a statement forged
	// in its name for another block at that height must not count.
	st := n.Replicator(n.Institutions[center].Member.ID).Store()
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var signed *block.Block
	for h := head.Height; h > 0 && signed == nil; h-- {
		b, err := st.Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(b.Cosignatures, func(c block.Cosignature) bool { return c.Institution == honest.Member.ID }) {
			signed = b
		}
	}
	if signed == nil {
		t.Fatalf("no block up to %d cosigned by %s", head.Height, honest.Member.ID)
	}
	cosign := func(k *suite.KeyFile, as string, h block.Header) (string, block.Cosignature) {
		hash, err := h.Hash(su)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := block.Cosign(su, k.PrivateKey(), k.Institution, k.KeyID, h.Chain, hash)
		if err != nil {
			t.Fatal(err)
		}
		cs.Institution = as
		return hash, cs
	}
	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	publish := func(h block.Header, cs block.Cosignature) {
		data, _ := json.Marshal(statement{Header: h, Cosignatures: []block.Cosignature{cs}})
		if err := nc.Publish(streams.CosignedSubject, data); err != nil {
			t.Fatal(err)
		}
	}
	forged := signed.Header
	forged.Time = txn.FormatTime(time.Now().UTC())
	_, fcs := cosign(rogue.Key, honest.Member.ID, forged) // the rogue's signature in the honest one's name
	fcs.KeyID = honest.Key.KeyID
	publish(forged, fcs)

	// The equivocation: two blocks at one height and view, both cosigned
	// with the rogue's key, delivered as anyone holding them could.
	_, view, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := block.Header{Chain: n.Genesis.ChainID, Height: head.Height + 200, Prev: head.Hash, Time: txn.FormatTime(time.Now().UTC()),
		View: view, Proposer: rogue.Member.ID, Epoch: head.Epoch, TxRoot: head.Header.TxRoot, LogSize: head.Header.LogSize, LogRoot: head.Header.LogRoot}
	b := a
	b.Time = txn.FormatTime(time.Now().UTC().Add(time.Millisecond))
	hashA, csA := cosign(rogue.Key, rogue.Member.ID, a)
	hashB, csB := cosign(rogue.Key, rogue.Member.ID, b)
	publish(a, csA)
	publish(b, csB)
	_ = nc.Flush()

	// Evidence at every recorder, each statement re-verified here.
	type ref struct {
		Header      block.Header      `json:"header"`
		Hash        string            `json:"hash"`
		Cosignature block.Cosignature `json:"cosignature"`
	}
	var ev map[string][][]byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ev = alertData(t, n, "equivocation")
		if len(ev) == 4 || time.Now().After(deadline) {
			break
		}
	}
	if len(ev) != 4 {
		t.Fatalf("equivocation evidence at %d of 4 recorders", len(ev))
	}
	for id, rows := range ev {
		for _, data := range rows {
			var e struct {
				Recorder   string `json:"recorder"`
				Height     uint64 `json:"height"`
				View       uint64 `json:"view"`
				Statements []ref  `json:"statements"`
			}
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("%s: evidence data: %v", id, err)
			}
			if e.Recorder != rogue.Member.ID || len(e.Statements) != 2 {
				t.Fatalf("%s: evidence names %s with %d statements", id, e.Recorder, len(e.Statements))
			}
			hashes := map[string]bool{}
			for _, s := range e.Statements {
				h, err := s.Header.Hash(su)
				sig, _ := base64.RawURLEncoding.DecodeString(s.Cosignature.Sig)
				if err != nil || h != s.Hash || s.Header.Height != e.Height || s.Header.View != e.View ||
					!su.Verify(rogue.Key.Public, block.CosignMessage(s.Header.Chain, h), sig) {
					t.Fatalf("%s: a statement of the evidence does not verify: %+v", id, s)
				}
				hashes[h] = true
			}
			if len(hashes) != 2 || !hashes[hashA] || !hashes[hashB] {
				t.Fatalf("%s: evidence is not the two blocks cosigned: %v", id, hashes)
			}
		}
	}
	if d := counterSum(t, "creditchain_consensus_equivocations_total", "recorder", rogue.Member.ID) - equivBefore; d < 4 {
		t.Fatalf("equivocation metric moved by %v, want one per recorder (4)", d)
	}
	if d := counterSum(t, "creditchain_consensus_equivocations_total", "recorder", honest.Member.ID) - framedBefore; d != 0 {
		t.Fatalf("a forged statement framed %s (metric +%v)", honest.Member.ID, d)
	}
	if d := counterSum(t, "creditchain_consensus_bad_cosigned_statements_total", "", "") - badBefore; d < 1 {
		t.Fatal("the forged statement was not counted as bad")
	}

	// Live and safe: transactions still commit, replicas agree.
	s := newSigner(n, court)
	env, id := s.sign(t, "record.create", recordCreate(orgCode(t, 61900), "court-defaulter", "court-defaulter", time.Now().UTC().Add(-time.Hour), "P2Y"))
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("submit: %s", r.Raw)
	}
	if r := waitStatus(t, n, id, 20*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("after the equivocation: %s", r.Raw)
	}
	h, hash := waitConverged(t, n, 20*time.Second)
	t.Logf("evidence at 4 recorders; head %d %s on every replica; %s", h, hash[:12], time.Since(began).Round(time.Millisecond))
}

// TestOmittedCandidateRefused: the leader turns adversary and leaves the
// exit that the exit-contracts submit out of its proposals while claiming
// the TXS range that holds it. Honest recorders refuse each such proposal
// and keep evidence naming the exit; without a quorum the leader loses its
// term, an honest leader commits the exit, and every replica agrees.
func TestOmittedCandidateRefused(t *testing.T) {
	began := time.Now()
	var adversary atomic.Value
	adversary.Store("")
	var dropped atomic.Int64
	clk := &settableClock{}
	n := startNetwork(t, devnet.Options{Clock: clk.Now, AdversaryCandidates: func(inst string, cands [][]byte) [][]byte {
		if inst != adversary.Load().(string) {
			return cands
		}
		var out [][]byte
		for _, c := range cands {
			var env struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(c, &env) == nil && env.Type == "record.exit" {
				dropped.Add(1)
				continue
			}
			out = append(out, c)
		}
		return out
	}})
	e := &exitNet{t: t, n: n, clk: clk}
	ctx := context.Background()
	leader, view, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adversary.Store(leader)
	omittedBefore := counterSum(t, "creditchain_consensus_omitted_candidates_total", "proposer", leader)

	// Attested performance ends a court listing at once: the exit-contracts
	// submit its exit right after the attestation commits.
	courtS := e.signer(court)
	rec := e.commit(courtS, "record.create", recordCreate(orgCode(t, 62000), "court-defaulter", "court-defaulter", clk.Now().UTC().Add(-time.Hour), "P2Y"))
	e.commit(courtS, "record.attest", map[string]any{"record_id": rec, "kind": "performed", "at": txn.FormatTime(clk.Now().UTC().Add(-time.Minute))})
	r := e.waitRecord(rec, ledger.StatusExited, 60*time.Second)
	if dropped.Load() == 0 {
		t.Fatalf("leader %s never saw the exit to drop it", leader)
	}
	now, nowView, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if nowView == view {
		t.Fatalf("the exit committed in the adversary's view %d", view)
	}
	var ev map[string][][]byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ev = alertData(t, n, "omitted_candidate"); len(ev) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	// A quorum (3 of 4) needs two honest cosignatures besides the leader's:
	// at least two honest recorders must have refused.
	if len(ev) < 2 {
		t.Fatalf("omission evidence at %d recorders, want at least 2", len(ev))
	}
	if _, ok := ev[leader]; ok {
		t.Fatalf("the adversary %s evidenced itself", leader)
	}
	for id, rows := range ev {
		named := false
		for _, data := range rows {
			var o struct {
				Proposer string `json:"proposer"`
				View     uint64 `json:"view"`
				Omitted  []struct {
					TxID string `json:"tx_id"`
				} `json:"omitted"`
			}
			if err := json.Unmarshal(data, &o); err != nil {
				t.Fatal(err)
			}
			if o.Proposer != leader || o.View != view {
				t.Fatalf("%s: evidence names %s in view %d, want %s in %d", id, o.Proposer, o.View, leader, view)
			}
			for _, x := range o.Omitted {
				named = named || x.TxID == r.Exit.TxID
			}
		}
		if !named {
			t.Errorf("%s: no evidence names the exit %s", id, r.Exit.TxID)
		}
	}
	if d := counterSum(t, "creditchain_consensus_omitted_candidates_total", "proposer", leader) - omittedBefore; d < 2 {
		t.Fatalf("omission metric moved by %v, want at least 2", d)
	}
	h, hash := waitConverged(t, n, 20*time.Second)
	t.Logf("adversary %s (view %d) dropped %d exit candidate(s); %s in view %d committed exit %s; evidence at %d recorders; head %d %s everywhere; %s",
		leader, view, dropped.Load(), now, nowView, r.Exit.TxID[:12], len(ev), h, hash[:12], time.Since(began).Round(time.Millisecond))
}
