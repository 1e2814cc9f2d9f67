package exitcontract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
)

// genesisPolicies reads the built-in policies as the genesis installs them,
// counting the reads.
func genesisPolicies(reads *int) func(context.Context, string) (*ledger.PolicyState, error) {
	states := ledger.GenesisPolicies(policy.Builtins())
	return func(_ context.Context, id string) (*ledger.PolicyState, error) {
		*reads++
		return states[id], nil
	}
}

func record(category, term string, at ...ledger.Attestation) *ledger.Record {
	return &ledger.Record{
		ID: fmt.Sprintf("%064x", len(category)+len(term)), Category: category, Authority: "91350200776049653A",
		Measures: []string{"high_consumption_ban"}, Start: epoch, Term: term,
		Policy: ledger.PolicyRef{ID: category, Version: 1}, Status: ledger.StatusActive,
		Attestations: at, Repair: ledger.Repair{Status: policy.RepairNone},
	}
}

func attested(kind string) ledger.Attestation {
	return ledger.Attestation{Kind: kind, At: epoch.Add(24 * time.Hour)}
}

func TestPlanCourtDefaulterTerm(t *testing.T) {
	reads := 0
	c := newPolicyCache(genesisPolicies(&reads))
	ctx := context.Background()
	r := record(policy.CourtDefaulter, "P2Y")
	end := time.Date(2028, 1, 5, 0, 0, 0, 0, time.UTC)

	p, err := c.planFor(ctx, r, end.Add(-time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != ActionExit || p.Now || !p.Due.Equal(end) {
		t.Fatalf("a nanosecond before the term ends: %+v, want exit due at %s, not now", p, end)
	}
	p, err = c.planFor(ctx, r, end)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Now || p.Action != ActionExit || !strings.Contains(p.Reason, "纳入期限（P2Y）于 2028-01-05T00:00:00Z 届满") ||
		!strings.Contains(p.Reason, "the term (P2Y) ended at 2028-01-05T00:00:00Z") {
		t.Fatalf("at the term's end: %+v", p)
	}
	if reads != 1 {
		t.Fatalf("the policy was read %d times, want once", reads)
	}
}

func TestPlanEventsAndLifecycle(t *testing.T) {
	reads := 0
	c := newPolicyCache(genesisPolicies(&reads))
	ctx := context.Background()
	soon := epoch.Add(48 * time.Hour)

	// Indefinite listing without a ground: only an event can end it.
	if p, err := c.planFor(ctx, record(policy.CourtDefaulter, ""), soon); err != nil || p.Action != 0 {
		t.Fatalf("indefinite listing: %+v %v, want no action", p, err)
	}
	// The same with an art. 10 ground attested exits now.
	p, err := c.planFor(ctx, record(policy.CourtDefaulter, "", attested(policy.KindNoAssetsFound)), soon)
	if err != nil || !p.Now || !strings.Contains(p.Reason, "no assets were found") {
		t.Fatalf("indefinite listing with no_assets_found: %+v %v", p, err)
	}
	// A termed listing ignores that ground (art. 10 para. 2).
	p, err = c.planFor(ctx, record(policy.CourtDefaulter, "P2Y", attested(policy.KindNoAssetsFound)), soon)
	if err != nil || p.Now {
		t.Fatalf("termed listing with no_assets_found: %+v %v, want not now", p, err)
	}

	// Serious dishonesty: performed and approved waits for the first year.
	r := record(policy.SeriousDishonesty, "", attested(policy.KindPerformed))
	r.Repair = ledger.Repair{Status: policy.RepairApproved, DecidedAt: soon}
	year := time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	if p, err = c.planFor(ctx, r, soon); err != nil || p.Now || !p.Due.Equal(year) {
		t.Fatalf("serious, repaired, before a year: %+v %v", p, err)
	}
	if p, err = c.planFor(ctx, r, year); err != nil || !p.Now || !strings.Contains(p.Reason, "approved the credit repair") {
		t.Fatalf("serious, repaired, at a year: %+v %v", p, err)
	}
	// Without the approval it waits for the three-year maximum.
	r.Repair = ledger.Repair{Status: policy.RepairPending}
	if p, err = c.planFor(ctx, r, year); err != nil || p.Now || !p.Due.Equal(epoch.AddDate(3, 0, 0)) {
		t.Fatalf("serious, repair pending: %+v %v", p, err)
	}

	// An exited record is purged purge_after (P5Y) after its exit.
	r = record(policy.CourtDefaulter, "P2Y")
	r.Status, r.Exit = ledger.StatusExited, &ledger.Exit{Time: soon}
	purge := soon.AddDate(5, 0, 0)
	if p, err = c.planFor(ctx, r, purge.Add(-time.Second)); err != nil || p.Action != ActionPurge || p.Now || !p.Due.Equal(purge) {
		t.Fatalf("exited record: %+v %v, want purge due at %s", p, err, purge)
	}
	if p, err = c.planFor(ctx, r, purge); err != nil || !p.Now {
		t.Fatalf("exited record at its purge time: %+v %v", p, err)
	}
	// A revoked one counts from its revocation.
	r = record(policy.MinorDishonesty, "")
	r.Status, r.Revoked = ledger.StatusRevoked, &ledger.Exit{Time: soon}
	if p, err = c.planFor(ctx, r, soon); err != nil || p.Action != ActionPurge || !p.Due.Equal(soon.AddDate(0, 6, 0)) {
		t.Fatalf("revoked minor record: %+v %v", p, err)
	}
	// A purged record is done.
	r.Status = ledger.StatusPurged
	if p, err = c.planFor(ctx, r, soon); err != nil || p.Action != 0 {
		t.Fatalf("purged record: %+v %v", p, err)
	}
	if reads != 3 {
		t.Fatalf("%d policy reads for three policies", reads)
	}
}

func TestPlanErrors(t *testing.T) {
	reads := 0
	c := newPolicyCache(genesisPolicies(&reads))
	ctx := context.Background()
	r := record(policy.CourtDefaulter, "P2Y")
	r.Policy.Version = 7
	if _, err := c.planFor(ctx, r, epoch); err == nil || !strings.Contains(err.Error(), "no version 7") {
		t.Fatalf("unknown version: %v", err)
	}
	r = record("no-such-policy", "")
	if _, err := c.planFor(ctx, r, epoch); err == nil {
		t.Fatal("unknown policy accepted")
	}
	r = record(policy.CourtDefaulter, "P2Y")
	r.Status, r.Exit = ledger.StatusExited, nil
	var evalErr *EvaluationError
	if _, err := c.planFor(ctx, r, epoch); !errors.As(err, &evalErr) {
		t.Fatalf("exited record without its exit: %v, want an EvaluationError", err)
	}
	// A record the policy cannot evaluate fails alike everywhere.
	r = record(policy.CourtDefaulter, "P2Y")
	r.Start = time.Time{}
	if _, err := c.planFor(ctx, r, epoch); !errors.As(err, &evalErr) {
		t.Fatalf("record without a start: %v, want an EvaluationError", err)
	}
	// A policy missing from the replica is the replica's problem: retried.
	r = record("no-such-policy", "")
	if _, err := c.planFor(ctx, r, epoch); err == nil || errors.As(err, &evalErr) {
		t.Fatalf("unknown policy: %v, want a retryable error", err)
	}
}

func TestExitReasonGrounds(t *testing.T) {
	pol := func(id string) policy.Policy {
		for _, p := range policy.Builtins() {
			if p.ID == id {
				return *p
			}
		}
		t.Fatalf("no built-in %s", id)
		return policy.Policy{}
	}
	soon := epoch.Add(48 * time.Hour)
	repaired := record(policy.GeneralDishonesty, "", attested(policy.KindPerformed))
	repaired.Repair.Status = policy.RepairApproved
	cases := []struct {
		name string
		r    *ledger.Record
		at   time.Time
		want string
	}{
		{"general max period", record(policy.GeneralDishonesty, ""), epoch.AddDate(1, 0, 0), "一般失信信息最长公示期（一年）届满"},
		{"serious max period", record(policy.SeriousDishonesty, ""), epoch.AddDate(3, 0, 0), "longest publication period of serious dishonesty"},
		{"minor performed", record(policy.MinorDishonesty, "", attested(policy.KindPerformed)), soon, "已履行完毕法律文书确定的义务"},
		{"minor three months", record(policy.MinorDishonesty, ""), epoch.AddDate(0, 3, 0), "三个月"},
		{"general repaired", repaired, epoch.AddDate(0, 4, 0), "批准信用修复"},
		{"court performed before no assets", record(policy.CourtDefaulter, "P2Y",
			attested(policy.KindNoAssetsFound), attested(policy.KindSettled)), soon, "the enforcement settlement was performed"},
		{"shorter term", record(policy.SeriousDishonesty, "P6M"), epoch.AddDate(0, 6, 0), "the term (P6M) ended"},
	}
	for _, c := range cases {
		got := exitReason(c.r, pol(c.r.Policy.ID), c.at)
		if !strings.Contains(got, c.want) || !strings.Contains(got, "Exit under policy "+c.r.Policy.ID+" version 1") {
			t.Errorf("%s: reason %q lacks %q", c.name, got, c.want)
		}
	}
}
