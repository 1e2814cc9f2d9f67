package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/txn"
)

// settableClock is the network's clock: real time plus an offset that a
// test moves forward. Block times, intake's created_at window and the
// signers all read it, so moving it makes the next (idle) block's time
// jump, as if the network had been left running for that long.
type settableClock struct{ offset atomic.Int64 }

func (c *settableClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// jumpTo moves the clock forward so that it reads t now. Block times never
// go back, so neither does the clock.
func (c *settableClock) jumpTo(t time.Time) {
	if d := time.Until(t); d > time.Duration(c.offset.Load()) {
		c.offset.Store(int64(d))
	}
}

// exitNet is a network driven by a settable clock, with helpers that read
// the credit center's replica (not a recorder: it learns everything from
// the stream).
type exitNet struct {
	t   *testing.T
	n   *devnet.Network
	clk *settableClock
}

func (e *exitNet) signer(i int) *signer {
	s := newSigner(e.n, i)
	s.clock = e.clk.Now
	return s
}

func (e *exitNet) id(i int) string { return e.n.Institutions[i].Member.ID }

// commit submits a transaction and waits until it is committed.
func (e *exitNet) commit(s *signer, typ string, payload any) string {
	e.t.Helper()
	env, id := s.sign(e.t, typ, payload)
	if r := submit(e.t, e.n, env, nil); r.Status != 202 {
		e.t.Fatalf("submit %s: %d %s", typ, r.Status, r.Raw)
	}
	if r := waitStatus(e.t, e.n, id, 30*time.Second); r.Body["status"] != "committed" {
		e.t.Fatalf("%s not committed: %s", typ, r.Raw)
	}
	return id
}

// rejected submits a transaction that intake accepts and consensus must
// reject with reason.
func (e *exitNet) rejected(s *signer, typ string, payload any, reason string) {
	e.t.Helper()
	env, id := s.sign(e.t, typ, payload)
	if r := submit(e.t, e.n, env, nil); r.Status != 202 {
		e.t.Fatalf("submit %s: %d %s", typ, r.Status, r.Raw)
	}
	if r := waitStatus(e.t, e.n, id, 30*time.Second); r.Body["status"] != "rejected" || r.Body["reason"] != reason {
		e.t.Fatalf("%s: want rejected %s, got %s", typ, reason, r.Raw)
	}
}

// record reads a record from the center's replica, waiting for the
// replica to apply the block that created it (a receipt may come first).
func (e *exitNet) record(id string) *ledger.Record {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := e.n.Replicator(e.id(center)).Store().Record(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if r != nil {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("record %s is not on the center's replica", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus waits until record id has status on the center's replica.
func (e *exitNet) waitRecord(id, status string, within time.Duration) *ledger.Record {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := e.record(id)
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("record %s (%s) still %s after %s, want %s", id, r.Category, r.Status, within, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusesAt reads the head's block time and the statuses of ids in one
// statement, hence one snapshot of the replica.
func (e *exitNet) statusesAt(ids []string) (time.Time, map[string]string) {
	e.t.Helper()
	var header string
	var raw []byte
	err := e.n.Replicator(e.id(center)).Store().Pool.QueryRow(context.Background(),
		`SELECT b.header, (SELECT jsonb_object_agg(record_id, status) FROM records WHERE record_id = ANY($1))
		 FROM head h JOIN blocks b ON b.height = h.height`, ids).Scan(&header, &raw)
	if err != nil {
		e.t.Fatal(err)
	}
	var h struct {
		Time string `json:"time"`
	}
	st := map[string]string{}
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		e.t.Fatal(err)
	}
	at, err := txn.ParseTime(h.Time)
	if err != nil {
		e.t.Fatal(err)
	}
	return at, st
}

// jumpAfterBlock moves the clock to t right after a new block reaches the
// center's replica, when the leader has no proposal in flight: recorders
// refuse a proposal whose time is far from their clock, so a jump during a
// vote stalls the chain until a view change (consensus MaxSkew).
func (e *exitNet) jumpAfterBlock(t time.Time) {
	e.t.Helper()
	st := e.n.Replicator(e.id(center)).Store()
	h0, err := st.Head(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if h, err := st.Head(context.Background()); err == nil && h.Height > h0.Height {
			break
		}
	}
	e.clk.jumpTo(t)
}

// activeJustBefore moves the clock to lead before due, waits for a block
// in [due-lead, due) and checks that every record in ids is still active
// at that block: nothing exits early, whoever submits.
func (e *exitNet) activeJustBefore(due time.Time, lead time.Duration, ids ...string) {
	e.t.Helper()
	e.jumpAfterBlock(due.Add(-lead))
	deadline := time.Now().Add(lead - 3*time.Second)
	for {
		at, st := e.statusesAt(ids)
		if !at.Before(due) {
			e.t.Fatalf("no block seen between %s and %s", due.Add(-lead), due)
		}
		if !at.Before(due.Add(-lead)) {
			for _, id := range ids {
				if st[id] != ledger.StatusActive {
					e.t.Fatalf("record %s is %s at block time %s, before its due time %s", id, st[id], at, due)
				}
			}
			e.t.Logf("block time %s, %s before %s: %d records still active", at.Format(time.RFC3339Nano), due.Sub(at), due.Format(time.RFC3339), len(ids))
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no block in [%s, %s) within %s", due.Add(-lead), due, lead-3*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exitedAtOrAfter waits for the record's exit and checks its block time.
func (e *exitNet) exitedAtOrAfter(id string, due time.Time) *ledger.Record {
	e.t.Helper()
	r := e.waitRecord(id, ledger.StatusExited, 40*time.Second)
	if r.Exit == nil || r.Exit.Time.Before(due) {
		e.t.Fatalf("record %s exited at %v, before its due time %s", id, r.Exit, due)
	}
	return r
}

// exitSubmitter is the institution that signed the record's exit.
func (e *exitNet) exitSubmitter(r *ledger.Record) string {
	e.t.Helper()
	var sub string
	if err := e.n.Replicator(e.id(center)).Store().Pool.QueryRow(context.Background(),
		`SELECT submitter FROM txs WHERE tx_id = $1`, r.Exit.TxID).Scan(&sub); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// jumpLead is how far before a due time the clock jumps: room for a
// block before it even if the jump delays the chain.
const jumpLead = 15 * time.Second

func hexHash(c byte) string { return strings.Repeat(string(c), 64) }

// generalV2 is general-dishonesty version 2: publication ends after six
// months instead of one year.
func generalV2(t *testing.T) map[string]any {
	var v1 *policy.Policy
	for _, p := range policy.Builtins() {
		if p.ID == policy.GeneralDishonesty {
			v1 = p
		}
	}
	p := map[string]any{
		"id": v1.ID, "version": 2,
		"eligible":    strings.ReplaceAll(v1.Eligible, `"P1Y"`, `"P6M"`),
		"due":         strings.ReplaceAll(v1.Due, `"P1Y"`, `"P6M"`),
		"purge_after": v1.PurgeAfter,
		"description": "一般失信（第2版）：最长公示期六个月。\nGeneral dishonesty, version 2: published for six months at most.",
	}
	if p["eligible"] == v1.Eligible {
		t.Fatal("version 2 does not differ from version 1")
	}
	return p
}

// TestExitContracts drives a network's block time across the terms of the
// built-in policies: every record exits exactly when its bound policy
// version allows it, through the recorders' exit-contracts, even with any
// one of them stopped; purges follow purge_after; and policy versions take
// effect only with a majority of recorders.
func TestExitContracts(t *testing.T) {
	clk := &settableClock{}
	e := &exitNet{t: t, n: startNetwork(t, devnet.Options{Clock: clk.Now}), clk: clk}
	n, ctx := e.n, context.Background()
	courtS, marketS, taxS, ecologyS, bankS, centerS := e.signer(court), e.signer(market), e.signer(tax), e.signer(ecology), e.signer(bank), e.signer(center)
	for _, in := range n.Institutions[court : ecology+1] {
		if n.ExitContract(in.Member.ID) == nil {
			t.Fatalf("devnet started no exit-contract for recorder %s", in.Member.ID)
		}
	}
	if n.ExitContract(e.id(bank)) != nil {
		t.Fatal("devnet started an exit-contract for the bank, which is no recorder")
	}

	start := clk.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	after := func(period string) time.Time { return policy.MustParseDuration(period).AddTo(start) }
	create := func(s *signer, subject int, category, term string) string {
		return e.commit(s, "record.create", recordCreate(orgCode(t, 5000+subject), category, category, start, term))
	}
	attest := func(s *signer, rec string) {
		e.commit(s, "record.attest", map[string]any{"record_id": rec, "kind": "performed", "at": txn.FormatTime(clk.Now().UTC().Add(-time.Minute))})
	}
	repair := func(authority *signer, rec string) {
		app := e.commit(bankS, "repair.apply", map[string]any{"record_id": rec, "pledge_hash": hexHash('a'), "materials": []string{hexHash('b')}})
		e.commit(authority, "repair.decide", map[string]any{"record_id": rec, "application": app, "decision": "approved"})
	}

	// Records under each built-in policy, all starting an hour ago.
	courtTerm := create(courtS, 1, policy.CourtDefaulter, "P2Y")
	courtPerformed := create(courtS, 2, policy.CourtDefaulter, "P2Y")
	serious := create(marketS, 3, policy.SeriousDishonesty, "")
	seriousNoRepair := create(marketS, 4, policy.SeriousDishonesty, "")
	seriousNoPerformance := create(marketS, 5, policy.SeriousDishonesty, "")
	general := create(taxS, 6, policy.GeneralDishonesty, "")
	minor := create(ecologyS, 7, policy.MinorDishonesty, "")

	// Exits submitted by hand before the policy holds are rejected.
	e.rejected(courtS, "record.exit", map[string]any{"record_id": courtTerm, "policy": policy.CourtDefaulter, "version": 1, "reason": "期限届满 term ended"}, "policy_not_satisfied")
	e.rejected(taxS, "record.exit", map[string]any{"record_id": general, "policy": policy.GeneralDishonesty, "version": 1, "reason": "公示期满 published long enough"}, "policy_not_satisfied")

	// Attested performance ends a court listing and a minor record at once;
	// for serious dishonesty it also needs an approved repair and a year.
	attest(courtS, courtPerformed)
	attest(ecologyS, minor)
	attest(marketS, serious)
	repair(marketS, serious)
	attest(marketS, seriousNoRepair)
	repair(marketS, seriousNoPerformance)
	e.rejected(marketS, "record.exit", map[string]any{"record_id": serious, "policy": policy.SeriousDishonesty, "version": 1, "reason": "已修复 repaired"}, "policy_not_satisfied")

	r := e.waitRecord(courtPerformed, ledger.StatusExited, 30*time.Second)
	if !strings.Contains(r.Exit.Reason, "已履行完毕") || !strings.Contains(r.Exit.Reason, "the obligations were performed") {
		t.Errorf("court exit reason %q does not name performance", r.Exit.Reason)
	}
	minorExit := e.waitRecord(minor, ledger.StatusExited, 30*time.Second).Exit
	for _, id := range []string{courtTerm, serious, seriousNoRepair, seriousNoPerformance, general} {
		if s := e.record(id).Status; s != ledger.StatusActive {
			t.Fatalf("record %s is %s before any time passed", id, s)
		}
	}

	// Governance: market proposes general-dishonesty v2 (six months). With
	// one and then two approvals of four recorders it stays inactive and
	// new records bind to v1; the regulator may not approve; the third
	// recorder's approval activates it for records created afterwards.
	e.commit(marketS, "policy.propose", generalV2(t))
	gen1 := create(taxS, 8, policy.GeneralDishonesty, "")
	e.commit(taxS, "policy.approve", map[string]any{"id": policy.GeneralDishonesty, "version": 2})
	gen2 := create(taxS, 9, policy.GeneralDishonesty, "")
	env, _ := centerS.sign(t, "policy.approve", map[string]any{"id": policy.GeneralDishonesty, "version": 2})
	if r := submit(t, n, env, nil); r.Status != 403 || r.errorCode() != "forbidden_role" {
		t.Fatalf("regulator's policy.approve: %d %s", r.Status, r.Raw)
	}
	e.commit(ecologyS, "policy.approve", map[string]any{"id": policy.GeneralDishonesty, "version": 2})
	gen3 := create(taxS, 10, policy.GeneralDishonesty, "")
	for id, want := range map[string]int{gen1: 1, gen2: 1, gen3: 2, general: 1} {
		if v := e.record(id).Policy.Version; v != want {
			t.Errorf("record %s is bound to general-dishonesty v%d, want v%d", id, v, want)
		}
	}
	ps, err := n.Replicator(e.id(center)).Store().Policy(ctx, policy.GeneralDishonesty)
	if err != nil || ps == nil || ps.Active != 2 {
		t.Fatalf("general-dishonesty active version %v, %v; want 2", ps, err)
	}

	// Six months on, with the leader's exit-contract stopped: the record
	// bound to v2 exits; those bound to v1 stay.
	leader, _, err := n.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n.StopExitContract(leader)
	t.Logf("stopped the exit-contract of %s, the leader", leader)
	e.activeJustBefore(after("P6M"), jumpLead, gen3, gen1, gen2, general)
	if sub := e.exitSubmitter(e.exitedAtOrAfter(gen3, after("P6M"))); sub == leader {
		t.Errorf("record %s's exit was signed by %s, whose exit-contract is stopped", gen3, sub)
	}
	for _, id := range []string{gen1, gen2, general} {
		if s := e.record(id).Status; s != ledger.StatusActive {
			t.Errorf("record %s bound to v1 is %s at six months", id, s)
		}
	}

	// One year on: serious (with performance and approved repair) and the
	// general v1 records exit at the year, not a block before; the minor
	// record's data is purged (six months after its exit).
	year := after("P1Y")
	e.activeJustBefore(year, jumpLead, serious, general, gen1, gen2)
	for _, id := range []string{serious, general, gen1, gen2} {
		if sub := e.exitSubmitter(e.exitedAtOrAfter(id, year)); sub == leader {
			t.Errorf("record %s's exit was signed by %s, whose exit-contract is stopped", id, sub)
		}
	}
	if !strings.Contains(e.record(serious).Exit.Reason, "批准信用修复") {
		t.Errorf("serious exit reason %q does not name the repair", e.record(serious).Exit.Reason)
	}
	if r := e.waitRecord(minor, ledger.StatusPurged, 40*time.Second); r.History[len(r.History)-1].Time.Before(policy.MustParseDuration("P6M").AddTo(minorExit.Time)) {
		t.Errorf("minor record purged at %s, before six months after its exit at %s", r.History[len(r.History)-1].Time, minorExit.Time)
	}
	for _, id := range []string{seriousNoRepair, seriousNoPerformance, courtTerm} {
		if s := e.record(id).Status; s != ledger.StatusActive {
			t.Errorf("record %s is %s after one year; it needs performance and repair, or more time", id, s)
		}
	}

	// Two years on, the leader's exit-contract is back and the court's (the
	// authority of the listing) is stopped: the court listing exits at the
	// end of its term, submitted by another recorder.
	if err := n.StartExitContract(ctx, leader); err != nil {
		t.Fatal(err)
	}
	// A restarted exit-contract rebuilds its schedule from the replica.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st := n.ExitContract(leader).Status()
		if st.Ready && st.Loaded > 0 && st.Scheduled > 0 {
			t.Logf("restarted exit-contract of %s: %d records loaded, %d scheduled", leader, st.Loaded, st.Scheduled)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted exit-contract of %s did not rebuild its schedule: %+v", leader, st)
		}
	}
	stopped := e.id(court)
	n.StopExitContract(stopped)
	term := after("P2Y")
	e.activeJustBefore(term, jumpLead, courtTerm)
	r = e.exitedAtOrAfter(courtTerm, term)
	if sub := e.exitSubmitter(r); sub == stopped {
		t.Errorf("court listing's exit was signed by %s, whose exit-contract is stopped", sub)
	}
	if !strings.Contains(r.Exit.Reason, "纳入期限（P2Y）") || !strings.Contains(r.Exit.Reason, "the term (P2Y) ended") {
		t.Errorf("court listing exit reason %q does not name its term", r.Exit.Reason)
	}

	// Three years on, serious dishonesty ends whatever the repair.
	e.activeJustBefore(after("P3Y"), jumpLead, seriousNoRepair, seriousNoPerformance)
	for _, id := range []string{seriousNoRepair, seriousNoPerformance} {
		if r := e.exitedAtOrAfter(id, after("P3Y")); !strings.Contains(r.Exit.Reason, "最长公示期（三年）届满") {
			t.Errorf("record %s exit reason %q does not name the three years", id, r.Exit.Reason)
		}
	}
	var submitted uint64
	for _, in := range n.Institutions[court : ecology+1] {
		if ec := n.ExitContract(in.Member.ID); ec != nil {
			st := ec.Status()
			submitted += st.ExitsSubmitted + st.PurgesSubmitted
			t.Logf("exit-contract %s: %+v", in.Member.ID, st)
		}
	}
	if submitted == 0 {
		t.Error("the running exit-contracts report no submission")
	}
}
