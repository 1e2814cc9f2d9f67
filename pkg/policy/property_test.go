package policy

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

var (
	propertyKinds = append(append([]string(nil), art10Grounds...), "objection_filed", "term_extended")
	propertyTerms = []string{"PT1H", "PT36H", "P1D", "P10D", "P1M", "P3M", "P6M", "P1Y", "P2Y", "P3Y", "P5Y", "P1Y2M3DT4H5M6S"}
	propertyBase  = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func drawRecord(t *rapid.T) *Record {
	category := rapid.SampledFrom([]string{CourtDefaulter, SeriousDishonesty, GeneralDishonesty, MinorDishonesty}).Draw(t, "category")
	// Whole minutes over 40 years, with a bias towards month ends and 29 February.
	start := propertyBase.Add(time.Duration(rapid.Int64Range(0, 40*366*24*60).Draw(t, "startMinutes")) * time.Minute)
	if rapid.Bool().Draw(t, "leapStart") {
		start = time.Date(2000+4*rapid.IntRange(0, 9).Draw(t, "leapYear"), 2, 29, 0, 0, 0, 0, time.UTC)
	}
	r := &Record{ID: "r", Category: category, Start: start, Status: "active"}
	if rapid.Bool().Draw(t, "hasTerm") {
		r.Term = term(rapid.SampledFrom(propertyTerms).Draw(t, "term"))
	}
	for i, n := 0, rapid.IntRange(0, 3).Draw(t, "attestations"); i < n; i++ {
		r.Attestations = append(r.Attestations, attest(
			rapid.SampledFrom(propertyKinds).Draw(t, "kind"),
			start.Add(time.Duration(rapid.IntRange(0, 1000).Draw(t, "attestedHours"))*time.Hour)))
	}
	r.Repair.Status = rapid.SampledFrom([]string{RepairNone, RepairPending, RepairApproved, RepairRejected}).Draw(t, "repair")
	if r.Repair.Status == RepairApproved || r.Repair.Status == RepairRejected {
		r.Repair.DecidedAt = start.Add(time.Duration(rapid.IntRange(1, 1000).Draw(t, "decidedHours")) * time.Hour)
	}
	return r
}

// With no new event, evaluations only differ by time. Then: evaluation is
// deterministic (same answer twice and from a second compilation); the
// record is not eligible at any time before Due; it is eligible from Due on
// (the built-ins are monotonic in time, so Due is exact, never late); and a
// zero Due means it never becomes eligible.
func TestPropertyDueNeverLate(t *testing.T) {
	first := map[string]*Compiled{}
	second := map[string]*Compiled{}
	for _, p := range Builtins() {
		first[p.ID] = mustCompile(t, p)
		second[p.ID] = mustCompile(t, p)
	}
	rapid.Check(t, func(t *rapid.T) {
		r := drawRecord(t)
		c := first[r.Category]
		t0 := r.Start.Add(time.Duration(rapid.Int64Range(-366*24, 8*366*24).Draw(t, "t0Hours")) * time.Hour)
		d0, err := c.Evaluate(r, t0)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Evaluate(r, t0)
		if err != nil || again != d0 {
			t.Fatalf("second evaluation %+v, %v differs from %+v", again, err, d0)
		}
		other, err := second[r.Category].Evaluate(r, t0)
		if err != nil || other != d0 {
			t.Fatalf("second compilation gives %+v, %v, not %+v", other, err, d0)
		}
		if d0.Eligible && (d0.Due.IsZero() || d0.Due.After(t0)) {
			t.Fatalf("eligible at %s but due %s", t0, d0.Due)
		}

		probes := []time.Time{t0, t0.Add(time.Second), t0.AddDate(1, 0, 0), t0.AddDate(3, 0, 0), t0.AddDate(20, 0, 0)}
		for i := 0; i < 8; i++ {
			probes = append(probes, t0.Add(time.Duration(rapid.Int64Range(0, 10*366*24*3600).Draw(t, "probeSeconds"))*time.Second))
		}
		if !d0.Due.IsZero() {
			probes = append(probes, d0.Due.Add(-time.Second), d0.Due, d0.Due.Add(time.Second))
		}
		for _, now := range probes {
			if now.Before(t0) {
				continue
			}
			d, err := c.Evaluate(r, now)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case d0.Due.IsZero() && d.Eligible:
				t.Fatalf("no due at %s, yet eligible at %s", t0, now)
			case !d0.Due.IsZero() && now.Before(d0.Due) && d.Eligible:
				t.Fatalf("due %s (evaluated at %s), yet eligible earlier, at %s", d0.Due, t0, now)
			case !d0.Due.IsZero() && !now.Before(d0.Due) && !d.Eligible:
				t.Fatalf("due %s (evaluated at %s), yet not eligible at %s", d0.Due, t0, now)
			}
			if !d.Eligible && !d.Due.Equal(d0.Due) {
				t.Fatalf("due moved from %s to %s with no event", d0.Due, d.Due)
			}
		}
	})
}
