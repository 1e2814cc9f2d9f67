package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/txn"
	ccv1 "github.com/creditchain/creditchain/proto/creditchain/v1"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
)

// TestGarbageSigningRecorder: one recorder answers every proposal with a
// cosignature and checkpoint signature that do not verify. The leader does
// not count it, the chain stays live with the honest quorum (3 of 4), and the
// misbehaviour is kept as evidence.
func TestGarbageSigningRecorder(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	leader, _, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rogue string
	for _, i := range []int{court, market, tax, ecology} {
		if id := n.Institutions[i].Member.ID; id != leader {
			rogue = id
			break
		}
	}
	n.StopConsensus(rogue)
	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	key := n.Institutions[0].Key // any key id will do: the signature is garbage
	for _, in := range n.Institutions {
		if in.Member.ID == rogue {
			key = in.Key
		}
	}
	sub, err := nc.Subscribe(streams.VoteSubjectPrefix+rogue, func(m *nats.Msg) {
		data, _ := proto.Marshal(&ccv1.Vote{
			Cosignature: &ccv1.Cosignature{Institution: rogue, KeyId: key.KeyID, Sig: strings.Repeat("A", 86)},
			Checkpoint:  "garbage\n1\nAAAA\n\n— " + rogue + " AAAAAAAA\n",
		})
		_ = m.Respond(data)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	l := startLoad(t, n, 30, 60000)
	time.Sleep(3 * time.Second)
	checkNothingLost(t, n, l.finish())
	var bad int
	if err := n.Consensus(leader).Store().Pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE kind = 'bad_vote'`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	// The leader may have changed; count evidence across the recorders.
	for _, i := range []int{court, market, tax, ecology} {
		id := n.Institutions[i].Member.ID
		if c := n.Consensus(id); c != nil && id != leader {
			var k int
			_ = c.Store().Pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE kind = 'bad_vote'`).Scan(&k)
			bad += k
		}
	}
	if bad == 0 {
		t.Fatal("no evidence of the garbage votes was kept")
	}
}

// TestInvalidProposalRefused: a proposal whose hash is not the block its
// candidates yield on the recorder's own state (here: a leader claiming a
// block for a transaction that must be rejected) gets no cosignature.
func TestInvalidProposalRefused(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	leader, view, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var voter string
	for _, i := range []int{court, market, tax, ecology} {
		if id := n.Institutions[i].Member.ID; id != leader {
			voter = id
			break
		}
	}
	head, err := n.Consensus(voter).Store().Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction by the bank recording: it can only be rejected.
	env, _ := newSigner(n, bank).sign(t, "record.create", recordCreate(orgCode(t, 70000), "court-defaulter", "court-defaulter", time.Now().UTC().Add(-time.Hour), "P2Y"))
	canon, _ := env.Canonical()
	p := &ccv1.Proposal{Height: head.Height + 1, Prev: head.Hash, Time: txn.FormatTime(time.Now().UTC()), View: view,
		Proposer: leader, Candidates: [][]byte{canon}, Hash: strings.Repeat("ab", 32)}
	data, _ := proto.Marshal(p)
	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp, err := nc.Request(streams.VoteSubjectPrefix+voter, data, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var v ccv1.Vote
	if err := proto.Unmarshal(resp.Data, &v); err != nil {
		t.Fatal(err)
	}
	if v.Cosignature != nil || v.Refusal == "" {
		t.Fatalf("recorder cosigned an invalid proposal: %v", &v)
	}
	// A proposal from someone who is not the leader is refused too.
	p.Proposer, p.Hash = voter, head.Hash
	data, _ = proto.Marshal(p)
	resp, err = nc.Request(streams.VoteSubjectPrefix+voter, data, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(resp.Data, &v); err != nil || v.Cosignature != nil || !strings.Contains(v.Refusal, "leader") {
		t.Fatalf("recorder cosigned a proposal from a non-leader: %v", &v)
	}
}
