package policy

import (
	"testing"
	"time"
)

// expectAround checks a threshold: one second before it the record is not
// eligible and is due at the threshold; at it and one second after it the
// record is eligible.
func expectAround(t *testing.T, c *Compiled, r *Record, threshold time.Time, label string) {
	t.Helper()
	before := evaluate(t, c, r, threshold.Add(-time.Second))
	if before.Eligible || !before.Due.Equal(threshold) {
		t.Errorf("%s: one second before %s: %+v, want not eligible, due at the threshold", label, threshold, before)
	}
	for _, now := range []time.Time{threshold, threshold.Add(time.Second)} {
		d := evaluate(t, c, r, now)
		if !d.Eligible || !d.Due.Equal(threshold) {
			t.Errorf("%s: at %s: %+v, want eligible, due %s", label, now, d, threshold)
		}
	}
}

// expectNotBy checks that the record is not eligible at now and is due at due
// (zero: never without a new event).
func expectNotBy(t *testing.T, c *Compiled, r *Record, now, due time.Time, label string) {
	t.Helper()
	d := evaluate(t, c, r, now)
	if d.Eligible || !d.Due.Equal(due) {
		t.Errorf("%s: at %s: %+v, want not eligible, due %v", label, now, d, due)
	}
}

// expectNow checks that the record is eligible at now and due then.
func expectNow(t *testing.T, c *Compiled, r *Record, now time.Time, label string) {
	t.Helper()
	d := evaluate(t, c, r, now)
	if !d.Eligible || !d.Due.Equal(now) {
		t.Errorf("%s: at %s: %+v, want eligible and due now", label, now, d)
	}
}

var art10Grounds = []string{
	KindPerformed, KindSettled, KindCreditorWithdrew, KindNoAssetsFound,
	KindEnforcementSuspended, KindEnforcementNotAllowed, KindEnforcementTerminated,
}

func TestCourtDefaulterTerm(t *testing.T) {
	c := builtin(t, CourtDefaulter)
	start := at(t, "2026-01-05T00:00:00Z")
	for tm, end := range map[string]string{
		"P2Y": "2028-01-05T00:00:00Z", // art. 2: two years
		"P3Y": "2029-01-05T00:00:00Z", // extended by one year
		"P5Y": "2031-01-05T00:00:00Z", // extended by three years
	} {
		r := &Record{ID: "r", Category: CourtDefaulter, Start: start, Term: term(tm)}
		expectAround(t, c, r, at(t, end), tm)
		expectNotBy(t, c, r, start, at(t, end), tm+" at start")
	}
}

func TestCourtDefaulterTermLeapDay(t *testing.T) {
	c := builtin(t, CourtDefaulter)
	r := &Record{ID: "r", Start: at(t, "2024-02-29T00:00:00Z"), Term: term("P1Y")}
	expectAround(t, c, r, at(t, "2025-03-01T00:00:00Z"), "leap day + P1Y")
	r.Term = term("P2Y")
	expectAround(t, c, r, at(t, "2026-03-01T00:00:00Z"), "leap day + P2Y")
	r.Term = term("P4Y")
	expectAround(t, c, r, at(t, "2028-02-29T00:00:00Z"), "leap day + P4Y")
}

// With a term, art. 2 para. 2 allows early deletion on performance; art. 10
// para. 2 excludes the other art. 10 para. 1 grounds.
func TestCourtDefaulterTermEarlyExit(t *testing.T) {
	c := builtin(t, CourtDefaulter)
	start := at(t, "2026-01-05T00:00:00Z")
	end := at(t, "2028-01-05T00:00:00Z")
	attested := at(t, "2026-03-01T00:00:00Z")
	for _, kind := range art10Grounds {
		r := &Record{ID: "r", Start: start, Term: term("P2Y"),
			Attestations: []Attestation{attest("objection_filed", start), attest(kind, attested)}}
		switch kind {
		case KindPerformed, KindSettled:
			expectNow(t, c, r, attested.Add(time.Second), "term + "+kind)
		default:
			expectNotBy(t, c, r, attested.Add(time.Second), end, "term + "+kind)
			expectAround(t, c, r, end, "term + "+kind)
		}
	}
}

func TestCourtDefaulterIndefinite(t *testing.T) {
	c := builtin(t, CourtDefaulter)
	start := at(t, "2026-01-05T00:00:00Z")
	r := &Record{ID: "r", Start: start,
		Attestations: []Attestation{attest("objection_filed", start), attest("term_extended", start)}}
	for _, now := range []time.Time{start, start.AddDate(2, 0, 0), start.AddDate(100, 0, 0)} {
		expectNotBy(t, c, r, now, time.Time{}, "indefinite without grounds")
	}
	for _, kind := range art10Grounds {
		r := &Record{ID: "r", Start: start, Attestations: []Attestation{attest(kind, start.AddDate(0, 6, 0))}}
		expectNow(t, c, r, start.AddDate(0, 6, 0), "indefinite + "+kind)
	}
}

func TestSeriousDishonesty(t *testing.T) {
	testRepairable(t, SeriousDishonesty, "2024-02-29T00:00:00Z",
		"2025-03-01T00:00:00Z", // start + P1Y, normalized past the missing 29 February
		"2027-03-01T00:00:00Z") // start + P3Y
}

func TestGeneralDishonesty(t *testing.T) {
	testRepairable(t, GeneralDishonesty, "2025-11-30T00:00:00Z",
		"2026-03-02T00:00:00Z", // start + P3M: 30 February normalizes to 2 March
		"2026-11-30T00:00:00Z") // start + P1Y
}

func testRepairable(t *testing.T, id, startS, minS, maxS string) {
	c := builtin(t, id)
	start, minEnd, maxEnd := at(t, startS), at(t, minS), at(t, maxS)
	performed := attest(KindPerformed, start.Add(time.Hour))
	approved := Repair{Status: RepairApproved, DecidedAt: start.Add(2 * time.Hour)}

	plain := &Record{ID: "r", Start: start}
	expectAround(t, c, plain, maxEnd, id+": publication ends")
	expectNotBy(t, c, plain, minEnd.Add(time.Second), maxEnd, id+": no repair after the minimum period")

	repaired := &Record{ID: "r", Start: start, Attestations: []Attestation{performed}, Repair: approved}
	expectAround(t, c, repaired, minEnd, id+": repair at the minimum period")

	for name, r := range map[string]*Record{
		"approved without performance": {ID: "r", Start: start, Repair: approved},
		"performed, repair pending": {ID: "r", Start: start, Attestations: []Attestation{performed},
			Repair: Repair{Status: RepairPending}},
		"performed, repair rejected": {ID: "r", Start: start, Attestations: []Attestation{performed},
			Repair: Repair{Status: RepairRejected, DecidedAt: start.Add(time.Hour)}},
		"performed, no repair": {ID: "r", Start: start, Attestations: []Attestation{performed}},
		"settled is not performed": {ID: "r", Start: start, Attestations: []Attestation{attest(KindSettled, start)},
			Repair: approved},
	} {
		expectNotBy(t, c, r, minEnd.Add(time.Second), maxEnd, id+": "+name)
		expectAround(t, c, r, maxEnd, id+": "+name)
	}

	// A shorter term on the record ends publication earlier; a longer one is
	// capped at the maximum.
	short := &Record{ID: "r", Start: start, Term: term("PT720H")}
	expectAround(t, c, short, start.Add(720*time.Hour), id+": shorter term")
	long := &Record{ID: "r", Start: start, Term: term("P10Y")}
	expectAround(t, c, long, maxEnd, id+": longer term")
	longRepaired := &Record{ID: "r", Start: start, Term: term("P10Y"),
		Attestations: []Attestation{performed}, Repair: approved}
	expectAround(t, c, longRepaired, minEnd, id+": longer term, repaired")
}

func TestMinorDishonesty(t *testing.T) {
	c := builtin(t, MinorDishonesty)
	start := at(t, "2024-02-29T00:00:00Z")
	plain := &Record{ID: "r", Start: start}
	expectAround(t, c, plain, at(t, "2024-05-29T00:00:00Z"), "three months at most")

	discharged := &Record{ID: "r", Start: start, Attestations: []Attestation{attest(KindPerformed, start.AddDate(0, 0, 10))}}
	expectNow(t, c, discharged, start.AddDate(0, 0, 10), "liability discharged")

	other := &Record{ID: "r", Start: start, Attestations: []Attestation{attest(KindSettled, start)}}
	expectNotBy(t, c, other, start.AddDate(0, 1, 0), at(t, "2024-05-29T00:00:00Z"), "settled is not discharge")

	short := &Record{ID: "r", Start: start, Term: term("P10D")}
	expectAround(t, c, short, at(t, "2024-03-10T00:00:00Z"), "shorter term")
	long := &Record{ID: "r", Start: start, Term: term("P1Y")}
	expectAround(t, c, long, at(t, "2024-05-29T00:00:00Z"), "longer term capped")
}

func TestBuiltinPurgeAfter(t *testing.T) {
	want := map[string]string{
		CourtDefaulter: "P5Y", SeriousDishonesty: "P5Y", GeneralDishonesty: "P3Y", MinorDishonesty: "P6M",
	}
	for id, p := range want {
		if got := builtin(t, id).PurgeAfter(); got != MustParseDuration(p) {
			t.Errorf("%s: PurgeAfter() = %s, want %s", id, got, p)
		}
	}
}
