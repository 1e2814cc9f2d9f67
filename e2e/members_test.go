package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/cmd/creditchain/membercmd"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/creditchain/creditchain/services/replicator"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var adminCategories = []string{"serious-dishonesty", "general-dishonesty", "minor-dishonesty"}

// TestMembershipGovernance changes the membership of a running network under
// load. A fifth recorder is admitted: the quorum grows to 4 of 5, the new
// recorder cosigns and its key is accepted, nothing is lost. A recorder is
// then removed with `creditchain member remove`: within a second intake
// refuses its key, a transaction of it slipped into TXS is rejected, no
// block of the new epoch carries its cosignature nor would verify with it,
// its NATS connection is closed, and the blocks it cosigned before still
// verify. A key rotation takes effect the same way. The regulator governs
// membership and nothing else; nobody else may.
func TestMembershipGovernance(t *testing.T) {
	n := startNetwork(t, devnet.Options{})
	ctx := context.Background()
	courtStore := n.Replicator(n.Institutions[court].Member.ID).Store()
	before := len(n.Institutions)
	l := startLoad(t, n, 20, 80000)
	time.Sleep(time.Second)

	// Admission of a recorder under load.
	in, err := n.AdmitInstitution(ctx, devnet.AdmitSpec{Name: "厦门市发展和改革委员会", Kind: "other",
		Roles: []string{membership.RoleRecorder, membership.RoleSubmitter}, Categories: adminCategories})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Institutions) != before+1 || n.Institutions[before].Member.ID != in.Member.ID {
		t.Fatalf("institutions did not grow by the admitted %s", in.Member.ID)
	}
	admitted := n.Membership()
	if got := len(admitted.Recorders()); got != 5 {
		t.Fatalf("epoch %d has %d recorders, want 5", admitted.Epoch, got)
	}
	waitCosignedBy(t, courtStore, admitted.Epoch, in.Member.ID, in.Key.KeyID, 4)
	newcomer := newSigner(n, before)
	env, id := newcomer.sign(t, "record.create", recordCreate(orgCode(t, 85000), "general-dishonesty", "general-dishonesty",
		time.Now().UTC().Add(-time.Hour), "P1Y"))
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("the admitted member's record.create: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("the admitted member's record.create: %s", r.Raw)
	}
	checkNothingLost(t, n, l.finish())
	if got := networkFileStatus(t, n); got[in.Member.ID] != "active" {
		t.Fatalf("network.json does not list the admitted %s with its own NATS user: %v", in.Member.ID, got)
	}

	// Removal of the ecology recorder, through the CLI, under load.
	l = startLoad(t, n, 20, 90000)
	victim := n.Institutions[ecology].Member.ID
	if !cosignedBefore(t, courtStore, admitted.Epoch, victim) {
		t.Fatalf("%s cosigned no block of epoch %d: nothing old to verify", victim, admitted.Epoch)
	}
	closed := make(chan struct{})
	vnc := connectAs(t, n, victim, closed)
	vjs, _ := jetstream.New(vnc)
	ledgerStream, err := vjs.Stream(ctx, streams.LedgerStream)
	if err != nil {
		t.Fatalf("a member reading LEDGER with its own credentials: %v", err)
	}
	if _, err := ledgerStream.GetMsg(ctx, 1); err != nil {
		t.Fatalf("a member reading a LEDGER message: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err = vjs.Publish(pctx, streams.TxsSubject, []byte("{}"))
	cancel()
	if err == nil {
		t.Fatal("a member's replica credentials published to TXS")
	}

	regKey := filepath.Join(n.Dir(), "keys", n.Institutions[center].Member.ID+".json")
	out := runMember(t, 0, "remove", "--network", filepath.Join(n.Dir(), "network.json"), "--key", regKey, "--id", victim)
	if !strings.Contains(out, "committed at height") {
		t.Fatalf("member remove printed %q", out)
	}
	removed := waitEtcd(t, n, func(e *membership.Epoch) bool {
		m, ok := e.Member(victim)
		return ok && m.Status == membership.StatusRemoved
	})
	inForce := time.Now()
	vs := newSigner(n, ecology)
	for {
		env, _ := vs.sign(t, "record.create", recordCreate(orgCode(t, 86000), "general-dishonesty", "general-dishonesty",
			time.Now().UTC().Add(-time.Hour), "P1Y"))
		r := submit(t, n, env, nil)
		if r.Status == 401 && r.errorCode() == "unknown_key" {
			break
		}
		if time.Since(inForce) > time.Second {
			t.Fatalf("intake still answers %d %s to a removed member a second after etcd changed", r.Status, r.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("intake refused the removed member %s after etcd changed", time.Since(inForce).Round(time.Millisecond))

	// Slipped past intake, its transaction is rejected in consensus.
	env, id = vs.sign(t, "record.create", recordCreate(orgCode(t, 86001), "general-dishonesty", "general-dishonesty",
		time.Now().UTC().Add(-time.Hour), "P1Y"))
	publishToTXS(t, n, env, id)
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "rejected" || r.Body["reason"] != "unknown_key" {
		t.Fatalf("a removed member's transaction in TXS: %s", r.Raw)
	}

	// Its NATS connection is closed and it cannot come back.
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("the removed member's NATS connection is still open after a minute")
	}
	if nc, err := nats.Connect(n.NATSURLFor(devnet.NATSReplicaUser(victim))); err == nil {
		nc.Close()
		t.Fatal("the removed member connected to NATS again")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("the removed member connecting to NATS: %v, want an authorization error", err)
	}

	// Its votes no longer count: 4 recorders, quorum 3, none of them it.
	b := waitBlockOfEpoch(t, courtStore, removed.Epoch)
	if len(b.Cosignatures) < 3 {
		t.Fatalf("block %d of epoch %d has %d cosignatures, quorum of 4 is 3", b.Header.Height, removed.Epoch, len(b.Cosignatures))
	}
	su, _ := suite.ByName(n.Genesis.CryptoSuite)
	for _, who := range []int{ecology, center} {
		if slices.ContainsFunc(b.Cosignatures, func(c block.Cosignature) bool { return c.Institution == n.Institutions[who].Member.ID }) {
			t.Fatalf("block %d carries a cosignature of %s", b.Header.Height, n.Institutions[who].Member.ID)
		}
		k := n.Institutions[who].Key
		cs, err := block.Cosign(su, k.PrivateKey(), k.Institution, k.KeyID, b.Header.Chain, b.Hash)
		if err != nil {
			t.Fatal(err)
		}
		forged := append(slices.Clone(b.Cosignatures[:2]), cs)
		if err := block.VerifyCosignatures(su, b.Header.Chain, b.Hash, forged, removed, n.Genesis.Quorum); err == nil {
			t.Fatalf("block %d verifies with a cosignature of %s, which is no recorder of epoch %d", b.Header.Height, k.Institution, removed.Epoch)
		}
	}

	// The regulator governs membership and nothing else; only it does.
	reg := newSigner(n, center)
	env, _ = reg.sign(t, "record.create", recordCreate(orgCode(t, 86002), "court-defaulter", "court-defaulter",
		time.Now().UTC().Add(-time.Hour), "P2Y"))
	if r := submit(t, n, env, nil); r.Status != 403 || r.errorCode() != "forbidden_role" {
		t.Fatalf("the regulator recording: %d %s", r.Status, r.Raw)
	}
	env, _ = newSigner(n, court).sign(t, "member.update", txn.MemberUpdate{Action: txn.ActionSuspend,
		Member: txn.MemberSpec{ID: n.Institutions[bank].Member.ID}})
	if r := submit(t, n, env, nil); r.Status != 403 || r.errorCode() != "forbidden_role" {
		t.Fatalf("a member.update signed by a recorder: %d %s", r.Status, r.Raw)
	}

	// A key rotation: the old key is refused, the new one accepted and used
	// for cosigning.
	marketID := n.Institutions[market].Member.ID
	oldMarket := newSigner(n, market)
	kf, err := n.RotateKey(ctx, marketID)
	if err != nil {
		t.Fatal(err)
	}
	env, _ = oldMarket.sign(t, "report.submit", reportSubmit(orgCode(t, 86003)))
	if r := submit(t, n, env, nil); r.Status != 401 || r.errorCode() != "unknown_key" {
		t.Fatalf("the rotated-out key: %d %s", r.Status, r.Raw)
	}
	env, id = newSigner(n, market).sign(t, "report.submit", reportSubmit(orgCode(t, 86004)))
	if r := submit(t, n, env, nil); r.Status != 202 {
		t.Fatalf("the new key: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, id, 30*time.Second); r.Body["status"] != "committed" {
		t.Fatalf("a report signed with the new key: %s", r.Raw)
	}
	waitCosignedBy(t, courtStore, n.Membership().Epoch, marketID, kf.KeyID, 3)

	// A suspended submitter: refused at intake, its services stopped.
	bankID := n.Institutions[bank].Member.ID
	if st, err := n.SuspendInstitution(ctx, bankID); err != nil || st.Status != "committed" {
		t.Fatalf("suspend %s: %+v %v", bankID, st, err)
	}
	env, _ = newSigner(n, bank).sign(t, "report.submit", reportSubmit(orgCode(t, 86005)))
	if r := submit(t, n, env, nil); r.Status != 401 || r.errorCode() != "unknown_key" {
		t.Fatalf("a suspended member's report: %d %s", r.Status, r.Raw)
	}
	if n.Replicator(bankID) != nil {
		t.Fatalf("the suspended %s's replicator still runs", bankID)
	}
	if got := networkFileStatus(t, n); got[bankID] != "suspended" || got[victim] != "removed" {
		t.Fatalf("network.json shows %s %q and %s %q", bankID, got[bankID], victim, got[victim])
	}

	checkActiveNothingLost(t, n, l.finish())
	// Old blocks, cosigned by the removed recorder and with the old key,
	// still verify: the audit replays each block against its own epoch.
	url, err := n.ReplicaURL(ctx, n.Institutions[court].Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	runLedger(t, 0, "verify", "--database", url, "--quiet")
	// The replica (the ledger) and etcd (what the services follow) agree.
	for _, from := range [][]string{{"--database", url}, {"--network", filepath.Join(n.Dir(), "network.json")}} {
		out = runMember(t, 0, append([]string{"list"}, from...)...)
		status := listedStatus(out)
		if status[victim] != "removed" || status[bankID] != "suspended" || status[in.Member.ID] != "active" {
			t.Fatalf("member list %s shows %s %q, %s %q, %s %q:\n%s", from[0], victim, status[victim],
				bankID, status[bankID], in.Member.ID, status[in.Member.ID], out)
		}
	}
}

// networkFileStatus reads network.json: each institution's status, "active"
// for an active one that has its own NATS credentials.
func networkFileStatus(t *testing.T, n *devnet.Network) map[string]string {
	t.Helper()
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(filepath.Join(n.Dir(), "network.json"))
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, in := range nf.Institutions {
		switch {
		case in.Status != "":
			out[in.ID] = in.Status
		case in.NATSURL != "":
			out[in.ID] = "active"
		}
	}
	return out
}

// listedStatus reads each member's status from `member list` output.
func listedStatus(out string) map[string]string {
	status := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			status[f[0]] = f[1]
		}
	}
	return status
}

func reportSubmit(subject string) map[string]any {
	return map[string]any{"subject": map[string]any{"kind": "organization", "uscc": subject, "name": "厦门某某有限公司"},
		"category": "general-dishonesty", "facts": "逾期未履行行政处罚决定"}
}

func runMember(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := membercmd.Run(args, &stdout, &stderr); code != want {
		t.Fatalf("creditchain member %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// connectAs connects to NATS as institution id's replicator does, closing
// closed when the server closes the connection.
func connectAs(t *testing.T, n *devnet.Network, id string, closed chan struct{}) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.NATSURLFor(devnet.NATSReplicaUser(id)), nats.CustomInboxPrefix(replicator.InboxPrefix(id)),
		nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatalf("connect as %s: %v", id, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// publishToTXS puts env straight into TXS as the operator would, past
// intake's checks.
func publishToTXS(t *testing.T, n *devnet.Network, env *txn.Envelope, id string) {
	t.Helper()
	data, err := env.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	// The server reloads its users when membership changes, which this
	// test has just done: a connection made at that moment may be dropped
	// (seen once in CI as a broken pipe), so a client tries again.
	for attempt := 1; ; attempt++ {
		err = func() error {
			nc, err := nats.Connect(n.NATSURL)
			if err != nil {
				return err
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			_, err = js.Publish(context.Background(), streams.TxsSubject, data, jetstream.WithMsgID(id))
			return err
		}()
		if err == nil {
			return
		}
		if attempt == 5 {
			t.Fatalf("publish to TXS: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitEtcd waits until the membership the services follow satisfies ok.
func waitEtcd(t *testing.T, n *devnet.Network, ok func(*membership.Epoch) bool) *membership.Epoch {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if e := n.Membership(); e != nil && ok(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd still shows epoch %d", n.Membership().Epoch)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitBlockOfEpoch waits for the replica to hold a block of epoch.
func waitBlockOfEpoch(t *testing.T, st *pgstore.Store, epoch uint64) *block.Block {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h int64
		err := st.Pool.QueryRow(ctx, `SELECT COALESCE(MIN(height), 0) FROM blocks WHERE epoch = $1`, int64(epoch)).Scan(&h)
		if err != nil {
			t.Fatal(err)
		}
		if h > 0 {
			b, err := st.Block(ctx, uint64(h))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("no block of epoch %d within 30s", epoch)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCosignedBy waits for a block of epoch that id cosigned with key,
// and checks every block of the epoch so far has at least quorum
// cosignatures.
func waitCosignedBy(t *testing.T, st *pgstore.Store, epoch uint64, id, keyID string, quorum int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := st.Pool.Query(ctx, `SELECT height FROM blocks WHERE epoch = $1 ORDER BY height`, int64(epoch))
		if err != nil {
			t.Fatal(err)
		}
		var heights []uint64
		for rows.Next() {
			var h int64
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			heights = append(heights, uint64(h))
		}
		rows.Close()
		found := false
		for _, h := range heights {
			b, err := st.Block(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Cosignatures) < quorum {
				t.Fatalf("block %d of epoch %d has %d cosignatures, quorum is %d", h, epoch, len(b.Cosignatures), quorum)
			}
			found = found || slices.ContainsFunc(b.Cosignatures, func(c block.Cosignature) bool {
				return c.Institution == id && c.KeyID == keyID
			})
		}
		if found {
			t.Logf("%s cosigns in epoch %d (%d blocks checked, quorum %d)", id, epoch, len(heights), quorum)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s cosigned none of the %d blocks of epoch %d with key %s", id, len(heights), epoch, keyID)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cosignedBefore reports whether id cosigned a block of an epoch up to epoch.
func cosignedBefore(t *testing.T, st *pgstore.Store, epoch uint64, id string) bool {
	t.Helper()
	var n int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM blocks
		WHERE epoch <= $1 AND cosignatures @> jsonb_build_array(jsonb_build_object('institution', $2::text))`,
		int64(epoch), id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// checkActiveNothingLost is checkNothingLost over the replicas still
// running: every accepted transaction committed once in each, no gap.
func checkActiveNothingLost(t *testing.T, n *devnet.Network, accepted []string) {
	t.Helper()
	for _, id := range accepted {
		if r := waitStatus(t, n, id, 60*time.Second); r.Body["status"] != "committed" {
			t.Errorf("accepted %s ended %s", id, r.Raw)
		}
	}
	height, hash := waitConverged(t, n, 60*time.Second)
	ctx := context.Background()
	for _, in := range n.Institutions {
		r := n.Replicator(in.Member.ID)
		if r == nil {
			continue
		}
		var found, blocks int
		if err := r.Store().Pool.QueryRow(ctx, `SELECT count(*) FROM txs WHERE tx_id = ANY($1)`, accepted).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if err := r.Store().Pool.QueryRow(ctx, `SELECT count(*) FROM blocks WHERE height <= $1`, int64(height)).Scan(&blocks); err != nil {
			t.Fatal(err)
		}
		if found != len(accepted) || uint64(blocks) != height+1 {
			t.Errorf("replica %s holds %d of %d accepted transactions and %d blocks for head %d", in.Member.ID, found, len(accepted), blocks, height)
		}
		if h, err := r.Store().BlockHash(ctx, height); err != nil || h != hash {
			t.Errorf("replica %s holds %s at height %d (%v), others %s", in.Member.ID, h, height, err, hash)
		}
	}
}
