package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Bounds on the record a policy sees. The static cost check of Compile
// assumes them, so a policy accepted once can evaluate every record that
// respects them within the cost limit.
const (
	MaxAttestations = 1024
	MaxMeasures     = 64
	MaxStringBytes  = 256
)

// CEL timestamps span years 0001 to 9999.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

func checkTime(what string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%s is not set", what)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("%s %s is outside years 0001-9999", what, t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func checkString(what, s string) error {
	if len(s) > MaxStringBytes {
		return fmt.Errorf("%s is longer than %d bytes", what, MaxStringBytes)
	}
	return nil
}

var repairStatuses = map[string]bool{
	RepairNone: true, RepairPending: true, RepairApproved: true, RepairRejected: true,
}

// recordValue builds the CEL value of record. Times are converted to UTC so
// that accessors and formatting do not depend on the caller's location.
func recordValue(r *Record) (ref.Val, error) {
	if r == nil {
		return nil, errors.New("record is nil")
	}
	for _, f := range [...]struct{ what, s string }{
		{"record.id", r.ID}, {"record.category", r.Category},
		{"record.authority", r.Authority}, {"record.status", r.Status},
	} {
		if err := checkString(f.what, f.s); err != nil {
			return nil, err
		}
	}
	if err := checkTime("record.start", r.Start); err != nil {
		return nil, err
	}
	start := r.Start.UTC()
	rec := recordType.newObject().
		set("id", types.String(r.ID)).
		set("category", types.String(r.Category)).
		set("authority", types.String(r.Authority)).
		set("start", types.Timestamp{Time: start}).
		set("status", types.String(r.Status))
	if r.Term != nil {
		end := r.Term.AddTo(start)
		if err := checkTime("record.end", end); err != nil {
			return nil, fmt.Errorf("term %s: %w", r.Term, err)
		}
		if !end.After(start) {
			return nil, fmt.Errorf("term %s is not positive", r.Term)
		}
		// term is end - start so that start + term is exactly the calendar
		// end, even for terms in years or months.
		term := end.Sub(start)
		if !start.Add(term).Equal(end) {
			return nil, fmt.Errorf("term %s is too long to express as a duration", r.Term)
		}
		rec.set("term", types.Duration{Duration: term})
		rec.set("end", types.Timestamp{Time: end})
	}

	if len(r.Measures) > MaxMeasures {
		return nil, fmt.Errorf("record has %d measures, more than %d", len(r.Measures), MaxMeasures)
	}
	measures := make([]ref.Val, len(r.Measures))
	for i, m := range r.Measures {
		if err := checkString(fmt.Sprintf("record.measures[%d]", i), m); err != nil {
			return nil, err
		}
		measures[i] = types.String(m)
	}
	rec.set("measures", types.NewRefValList(types.DefaultTypeAdapter, measures))

	if len(r.Attestations) > MaxAttestations {
		return nil, fmt.Errorf("record has %d attestations, more than %d", len(r.Attestations), MaxAttestations)
	}
	atts := make([]ref.Val, len(r.Attestations))
	for i, a := range r.Attestations {
		what := fmt.Sprintf("record.attestations[%d]", i)
		if a.Kind == "" {
			return nil, fmt.Errorf("%s.kind is empty", what)
		}
		if err := checkString(what+".kind", a.Kind); err != nil {
			return nil, err
		}
		if err := checkTime(what+".at", a.At); err != nil {
			return nil, err
		}
		atts[i] = attestationType.newObject().
			set("kind", types.String(a.Kind)).
			set("at", types.Timestamp{Time: a.At.UTC()})
	}
	rec.set("attestations", types.NewRefValList(types.DefaultTypeAdapter, atts))

	repair, err := repairValue(r.Repair)
	if err != nil {
		return nil, err
	}
	rec.set("repair", repair)
	return rec, nil
}

// repairValue treats the zero Repair as "none" so callers need not fill it.
func repairValue(rp Repair) (ref.Val, error) {
	status := rp.Status
	if status == "" {
		status = RepairNone
	}
	if !repairStatuses[status] {
		return nil, fmt.Errorf("record.repair.status %q is not one of none, pending, approved, rejected", rp.Status)
	}
	obj := repairType.newObject().set("status", types.String(status))
	if !rp.DecidedAt.IsZero() {
		if err := checkTime("record.repair.decided_at", rp.DecidedAt); err != nil {
			return nil, err
		}
		obj.set("decided_at", types.Timestamp{Time: rp.DecidedAt.UTC()})
	}
	return obj, nil
}
