package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestForgedBlocksRefused appends blocks to LEDGER as a rogue publisher
// would: too few cosignatures, forged cosignatures, a wrong prev hash and a
// second block at an existing height. Every replica refuses each, keeps it as
// evidence, and the chain goes on.
func TestForgedBlocksRefused(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	s := newSigner(n, court)
	env, id := s.sign(t, "record.create", recordCreate(orgCode(t, 20000), "court-defaulter", "court-defaulter", time.Now().UTC().Add(-time.Hour), "P2Y"))
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("submit: %s", r.Raw)
	}
	waitStatus(t, n, id, 20*time.Second)
	_, _ = waitConverged(t, n, 20*time.Second)

	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st := n.Replicator(n.Institutions[center].Member.ID).Store()
	su, _ := suite.ByName(n.Genesis.CryptoSuite)
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// next builds an empty successor of head signed by the given recorders.
	next := func(prev string, signers ...int) *block.Block {
		root, _ := head.Log.Root()
		h := block.Header{Chain: n.Genesis.ChainID, Height: head.Height + 1, Prev: prev,
			Time: txn.FormatTime(time.Now().UTC().Add(time.Second)), View: 1, Proposer: n.Institutions[court].Member.ID,
			Epoch: head.Epoch, TxCount: 0, TxRoot: hex.EncodeToString(merklelog.NewHasher(su).EmptyRoot()),
			LogSize: head.Log.Size(), LogRoot: hex.EncodeToString(root)}
		hash, err := h.Hash(su)
		if err != nil {
			t.Fatal(err)
		}
		b := &block.Block{Header: h, Hash: hash, Txs: []json.RawMessage{}}
		for _, i := range signers {
			k := n.Institutions[i].Key
			cs, err := block.Cosign(su, k.PrivateKey(), k.Institution, k.KeyID, h.Chain, hash)
			if err != nil {
				t.Fatal(err)
			}
			b.Cosignatures = append(b.Cosignatures, cs)
		}
		return b
	}
	tooFew := next(head.Hash, court)
	forgedSig := next(head.Hash, court, market, tax)
	forgedSig.Cosignatures[2].Sig = forgedSig.Cosignatures[1].Sig
	wrongPrev := next(head.Hash[:60]+"0000", court, market, tax)
	// A second block at the head's own height.
	dupHeight := next(head.Header.Prev, court)
	dupHeight.Header.Height = head.Height
	dupHeight.Hash, _ = dupHeight.Header.Hash(su)
	for name, b := range map[string]*block.Block{"too few cosignatures": tooFew, "forged cosignature": forgedSig, "wrong prev": wrongPrev, "duplicate height": dupHeight} {
		data, _ := json.Marshal(b)
		if _, err := js.Publish(ctx, streams.LedgerSubject, data); err != nil {
			t.Fatalf("%s: publish: %v", name, err)
		}
	}
	// The chain goes on past the forgeries.
	env2, id2 := s.sign(t, "record.create", recordCreate(orgCode(t, 20001), "court-defaulter", "court-defaulter", time.Now().UTC().Add(-time.Hour), "P2Y"))
	if r := submit(t, n, env2, nil); r.Status != 202 {
		t.Fatalf("submit: %s", r.Raw)
	}
	if r := waitStatus(t, n, id2, 60*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("after forgeries: %s", r.Raw)
	}
	height, _ := waitConverged(t, n, 30*time.Second)
	if height <= head.Height {
		t.Fatalf("chain did not advance past %d", head.Height)
	}
	for _, in := range n.Institutions {
		st := n.Replicator(in.Member.ID).Store()
		var refused int
		if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE kind LIKE 'block_refused_%'`).Scan(&refused); err != nil {
			t.Fatal(err)
		}
		if refused < 4 {
			t.Errorf("replica %s kept %d refused blocks, want 4", in.Member.ID, refused)
		}
		for _, b := range []*block.Block{tooFew, forgedSig, wrongPrev, dupHeight} {
			var n int
			_ = st.Pool.QueryRow(ctx, `SELECT count(*) FROM blocks WHERE hash = $1`, b.Hash).Scan(&n)
			if n != 0 {
				t.Errorf("replica %s applied forged block %s", in.Member.ID, b.Hash)
			}
		}
	}
}

// TestDeposedLeaderAppendRefused: an append that expects a stale last
// sequence, as a deposed leader's would, is refused by the stream.
func TestDeposedLeaderAppendRefused(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, _ := js.Stream(ctx, streams.LedgerStream)
	deadline := time.Now().Add(20 * time.Second)
	var last uint64
	for time.Now().Before(deadline) {
		info, _ := stream.Info(ctx)
		if last = info.State.LastSeq; last >= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last < 2 {
		t.Fatal("no blocks")
	}
	if _, err := js.Publish(ctx, streams.LedgerSubject, []byte(`{}`), jetstream.WithExpectLastSequence(last-1)); err == nil {
		t.Fatal("append with a stale expected last sequence was accepted")
	}
}
