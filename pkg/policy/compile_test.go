package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
)

func TestBuiltinsCompile(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Builtins() {
		if p.Version != 1 {
			t.Errorf("%s: version %d, want 1", p.ID, p.Version)
		}
		if seen[p.ID] {
			t.Errorf("%s: duplicate id", p.ID)
		}
		seen[p.ID] = true
		c := mustCompile(t, p)
		if got := c.PurgeAfter().String(); got != p.PurgeAfter {
			t.Errorf("%s: PurgeAfter() = %s, want %s", p.ID, got, p.PurgeAfter)
		}
		if c.Policy() != *p {
			t.Errorf("%s: Policy() differs from the source", p.ID)
		}
	}
	for _, id := range []string{CourtDefaulter, SeriousDishonesty, GeneralDishonesty, MinorDishonesty} {
		if !seen[id] {
			t.Errorf("built-in %s missing", id)
		}
	}
	// Callers may modify what they get without affecting later calls.
	Builtins()[0].Eligible = "true"
	if Builtins()[0].Eligible == "true" {
		t.Fatal("Builtins returns shared values")
	}
}

// The example of DESIGN 9.5 must compile and treat start + term exactly,
// for clock-based and calendar-based terms alike.
func TestDesignExample(t *testing.T) {
	c := mustCompile(t, custom(
		`has(record.term) && now >= record.start + record.term || record.attestations.exists(a, a.kind == "performed")`,
		`has(record.term) ? record.start + record.term : never`))
	start := at(t, "2024-02-29T00:00:00Z")
	for _, tc := range []struct {
		term string
		end  string
	}{
		{"PT36H", "2024-03-01T12:00:00Z"},
		{"P10D", "2024-03-10T00:00:00Z"},
		{"P1Y", "2025-03-01T00:00:00Z"},
		{"P2Y", "2026-03-01T00:00:00Z"},
		{"P1M", "2024-03-29T00:00:00Z"},
	} {
		r := &Record{ID: "r", Start: start, Term: term(tc.term)}
		end := at(t, tc.end)
		if d := evaluate(t, c, r, end.Add(-time.Second)); d.Eligible || !d.Due.Equal(end) {
			t.Errorf("%s: one second before the end: %+v, want not eligible, due %s", tc.term, d, end)
		}
		if d := evaluate(t, c, r, end); !d.Eligible {
			t.Errorf("%s: at the end: not eligible", tc.term)
		}
		r.Attestations = []Attestation{attest("performed", start)}
		if d := evaluate(t, c, r, start.Add(time.Second)); !d.Eligible {
			t.Errorf("%s: performed: not eligible", tc.term)
		}
	}
	indefinite := &Record{ID: "r", Start: start}
	if d := evaluate(t, c, indefinite, start.AddDate(50, 0, 0)); d.Eligible || !d.Due.IsZero() {
		t.Errorf("indefinite: %+v, want not eligible, no due", d)
	}
}

func TestCompileErrorsNameTheExpression(t *testing.T) {
	cases := []struct {
		p    *Policy
		want []string
	}{
		{custom(`1`, `now`), []string{"eligible", "bool", "int"}},
		{custom(`true`, `record.start > now`), []string{"due", "timestamp", "bool"}},
		{custom(`true`, `record.term`), []string{"due", "timestamp", "duration"}},
		{custom(`now >=`, `now`), []string{"eligible", "Syntax error"}},
		{custom(`record.strat < now`, `now`), []string{"eligible", "undefined field 'strat'"}},
		{custom(`true`, `clock()`), []string{"due", "undeclared reference"}},
		{custom(`dyn(1) == 1`, `now`), nil},
		{custom(`true`, `now + duration("1x")`), []string{"due", "duration"}},
		{custom(`true`, `timestamp("2026-13-01T00:00:00Z")`), []string{"due"}},
		{custom(`record.id.matches("(")`, `now`), []string{"eligible"}},
		{custom(`[1, "a"].size() > 0`, `now`), []string{"eligible"}},
		{custom(`now.getHours("Asia/Shanghai") > 8`, `now`), []string{"eligible", "fixed offset"}},
		{custom(`now.getHours(record.id) > 8`, `now`), []string{"eligible", "fixed offset"}},
		{custom(`true`, `add_period(now, "P1W")`), []string{"due", "add_period"}},
		{custom(`true`, `add_period(now, "1 year")`), []string{"due", "add_period"}},
		{custom(`true`, `now`), nil},
		{custom(strings.Repeat(" ", MaxExpressionBytes)+"true", `now`), []string{"eligible", "bytes"}},
		{&Policy{ID: "x", Version: 1, Eligible: "true", Due: "now", PurgeAfter: "P1W", Description: "d"}, []string{"purge_after"}},
		{&Policy{ID: "x", Version: 0, Eligible: "true", Due: "now", PurgeAfter: "P1Y", Description: "d"}, []string{"version"}},
		{custom(`true`, ``), []string{"due", "empty"}},
	}
	for _, tc := range cases {
		_, err := Compile(tc.p)
		if tc.want == nil {
			if err != nil {
				t.Errorf("eligible %q due %q: %v", tc.p.Eligible, tc.p.Due, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("eligible %q due %q: compiled, want an error", tc.p.Eligible, tc.p.Due)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("eligible %.40q due %q: error %q lacks %q", tc.p.Eligible, tc.p.Due, err, w)
			}
		}
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
}

func TestFixedOffsetTimeZones(t *testing.T) {
	// 2026-01-04T16:30:00Z is 00:30 on 5 January in China Standard Time.
	c := mustCompile(t, custom(
		`now.getHours("+08:00") == 0 && now.getDayOfMonth("+08:00") == 4 && now.getHours("UTC") == 16 && now.getHours() == 16`,
		`now`))
	if d := evaluate(t, c, &Record{Start: at(t, "2026-01-01T00:00:00Z")}, at(t, "2026-01-04T16:30:00Z")); !d.Eligible {
		t.Fatal("fixed-offset accessors disagree")
	}
}

func TestAbsentFields(t *testing.T) {
	start := at(t, "2026-01-05T00:00:00Z")
	now := at(t, "2027-01-05T00:00:00Z")
	indefinite := &Record{ID: "r", Start: start}
	presence := mustCompile(t, custom(
		`!has(record.term) && !has(record.end) && !has(record.repair.decided_at) && record.repair.status == "none"`, `now`))
	if d := evaluate(t, presence, indefinite, now); !d.Eligible {
		t.Fatal("absent fields reported present")
	}
	decided := &Record{ID: "r", Start: start, Term: term("P2Y"),
		Repair: Repair{Status: RepairRejected, DecidedAt: at(t, "2026-06-01T00:00:00Z")}}
	present := mustCompile(t, custom(
		`has(record.term) && has(record.end) && record.repair.decided_at == timestamp("2026-06-01T00:00:00Z")
		 && record.end == timestamp("2028-01-05T00:00:00Z") && record.term == duration("17520h")`, `now`))
	if d := evaluate(t, present, decided, now); !d.Eligible {
		t.Fatal("present fields wrong")
	}
	for expr, hint := range map[string]string{
		`now >= record.end`:                     "has(record.end)",
		`now >= record.start + record.term`:     "has(record.term)",
		`now >= record.repair.decided_at`:       "has(record.repair.decided_at)",
		`now >= dyn(record).end`:                "has(record.end)",
		`record.attestations[0].kind == "x"`:    "index",
		`dyn(record).nonexistent == "x"`:        "no field",
		`dyn(record.repair).nonexistent == "x"`: "no field",
	} {
		c := mustCompile(t, custom(expr, `now`))
		_, err := c.Evaluate(indefinite, now)
		if err == nil || !strings.Contains(err.Error(), hint) || !strings.Contains(err.Error(), "eligible") {
			t.Errorf("%s: error %v, want one mentioning %q", expr, err, hint)
		}
	}
}

func TestRecordFields(t *testing.T) {
	r := &Record{
		ID: "abc", Category: "court-defaulter", Authority: "91350200776049653A",
		Start: at(t, "2026-01-05T00:00:00Z"), Term: term("P2Y"),
		Measures: []string{"high_consumption_ban", "travel_ban"}, Status: "active",
		Attestations: []Attestation{attest("performed", at(t, "2026-03-01T10:00:00+08:00"))},
		Repair:       Repair{Status: RepairPending},
	}
	c := mustCompile(t, custom(`record.id == "abc" && record.category == "court-defaulter"
		&& record.authority == "91350200776049653A" && record.status == "active"
		&& record.measures == ["high_consumption_ban", "travel_ban"] && "travel_ban" in record.measures
		&& record.attestations.size() == 1 && record.attestations[0].kind == "performed"
		&& record.attestations[0].at == timestamp("2026-03-01T02:00:00Z")
		&& record.repair.status == "pending" && record.start == timestamp("2026-01-05T00:00:00Z")
		&& type(record) == creditchain.Record && record == record`, `now`))
	if d := evaluate(t, c, r, at(t, "2026-04-01T00:00:00Z")); !d.Eligible {
		t.Fatal("record fields not as expected")
	}
}

func TestObjectsCannotBeConstructed(t *testing.T) {
	c, err := Compile(custom(`creditchain.Repair{status: "approved"} == record.repair`, `now`))
	if err != nil {
		return // rejected at compile time: fine
	}
	if _, err := c.Evaluate(&Record{Start: at(t, "2026-01-01T00:00:00Z")}, at(t, "2026-01-02T00:00:00Z")); err == nil {
		t.Fatal("a policy constructed a record object")
	}
}

func TestFunctions(t *testing.T) {
	r := &Record{ID: "r", Start: at(t, "2024-02-29T00:00:00Z")}
	now := at(t, "2026-01-01T00:00:00Z")
	c := mustCompile(t, custom(`add_period(record.start, "P1Y") == timestamp("2025-03-01T00:00:00Z")
		&& add_period(record.start, "P1Y2M3DT4H5M6S") == timestamp("2025-05-02T04:05:06Z")
		&& add_period(record.start, "PT0S") == record.start
		&& earliest(now, record.start) == record.start && earliest(record.start, now) == record.start
		&& earliest([now, record.start, never]) == record.start
		&& earliest(record.attestations.map(a, a.at)) == never
		&& never == timestamp("9999-12-31T23:59:59Z")`, `now`))
	if d := evaluate(t, c, r, now); !d.Eligible {
		t.Fatal("functions misbehave")
	}
	for _, expr := range []string{
		`add_period(never, "P1Y") > now`,
		`add_period(now, record.id) > now`,
		`add_period(timestamp("0001-01-01T00:00:00Z"), "P9999Y") > now`,
	} {
		c := mustCompile(t, custom(expr, `now`))
		if _, err := c.Evaluate(r, now); err == nil || !strings.Contains(err.Error(), "add_period") {
			t.Errorf("%s: error %v, want an add_period error", expr, err)
		}
	}
}

func TestDueMapping(t *testing.T) {
	r := &Record{ID: "r", Start: at(t, "2026-01-01T00:00:00Z")}
	now := at(t, "2026-06-01T00:00:00Z")
	cases := []struct {
		eligible, due string
		want          time.Time
	}{
		{`false`, `never`, time.Time{}},
		{`false`, `timestamp("9999-12-31T23:59:59.5Z")`, time.Time{}},
		{`false`, `timestamp("9999-12-31T23:59:58Z")`, at(t, "9999-12-31T23:59:58Z")},
		{`false`, `add_period(record.start, "P1Y")`, at(t, "2027-01-01T00:00:00Z")},
		{`false`, `record.start`, at(t, "2026-01-01T00:00:00Z")},
		// An eligible record is due by now at the latest.
		{`true`, `never`, now},
		{`true`, `add_period(record.start, "P1Y")`, now},
		{`true`, `record.start`, at(t, "2026-01-01T00:00:00Z")},
	}
	for _, tc := range cases {
		d := evaluate(t, mustCompile(t, custom(tc.eligible, tc.due)), r, now)
		if !d.Due.Equal(tc.want) || d.Due.Location() != time.UTC {
			t.Errorf("eligible %s due %s: Due = %v, want %v (UTC)", tc.eligible, tc.due, d.Due, tc.want)
		}
	}
}

func TestEvaluateUsesUTC(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	c := mustCompile(t, custom(`now.getHours() == 16 && record.start.getDate() == 4`, `record.start`))
	r := &Record{ID: "r", Start: time.Date(2026, 1, 5, 0, 0, 0, 0, cst), Term: term("P1M")}
	d := evaluate(t, c, r, time.Date(2026, 1, 5, 0, 0, 0, 0, cst))
	if !d.Eligible || d.Due.Location() != time.UTC {
		t.Fatalf("times not converted to UTC: %+v", d)
	}
}

func TestEvaluateRejectsInvalidRecords(t *testing.T) {
	c := builtin(t, CourtDefaulter)
	start := at(t, "2026-01-05T00:00:00Z")
	now := at(t, "2026-06-01T00:00:00Z")
	many := make([]Attestation, MaxAttestations+1)
	for i := range many {
		many[i] = attest("performed", start)
	}
	long := strings.Repeat("x", MaxStringBytes+1)
	cases := map[string]*Record{
		"nil":                 nil,
		"no start":            {ID: "r"},
		"zero term":           {ID: "r", Start: start, Term: &Duration{}},
		"term beyond 9999":    {ID: "r", Start: start, Term: term("P9000Y")},
		"too many":            {ID: "r", Start: start, Attestations: many},
		"too many measures":   {ID: "r", Start: start, Measures: make([]string, MaxMeasures+1)},
		"long id":             {ID: long, Start: start},
		"long measure":        {ID: "r", Start: start, Measures: []string{long}},
		"empty kind":          {ID: "r", Start: start, Attestations: []Attestation{attest("", start)}},
		"long kind":           {ID: "r", Start: start, Attestations: []Attestation{attest(long, start)}},
		"attestation no time": {ID: "r", Start: start, Attestations: []Attestation{{Kind: "performed"}}},
		"bad repair status":   {ID: "r", Start: start, Repair: Repair{Status: "granted"}},
		"start before year 1": {ID: "r", Start: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, r := range cases {
		if _, err := c.Evaluate(r, now); err == nil {
			t.Errorf("%s: Evaluate accepted the record", name)
		}
	}
	if _, err := c.Evaluate(&Record{ID: "r", Start: start}, time.Time{}); err == nil {
		t.Error("Evaluate accepted a zero now")
	}
}

// A pathological expression is refused before it reaches the ledger: by the
// nesting limit, or by its worst-case cost over records within the bounds.
func TestCostLimitAtCompile(t *testing.T) {
	for _, expr := range []string{
		`record.attestations.all(a, record.attestations.all(b, a.kind == b.kind))`,
		`record.attestations.all(a, record.attestations.all(b, record.attestations.all(c, a.kind == c.kind)))`,
		`record.attestations.map(a, record.attestations.map(b, b.kind + a.kind)).size() > 0`,
		`record.attestations.filter(a, record.measures.exists(m, record.attestations.exists(b, b.kind == m))).size() > 0`,
	} {
		_, err := Compile(custom(expr, `now`))
		if err == nil {
			t.Errorf("%s: compiled", expr)
			continue
		}
		if !strings.Contains(err.Error(), "cost") && !strings.Contains(err.Error(), "nest") {
			t.Errorf("%s: error %v is not about cost or nesting", expr, err)
		}
	}
}

// The run-time limit is the backstop: an evaluation that spends more than
// the limit stops with an error instead of running on.
func TestCostLimitAtEvaluation(t *testing.T) {
	env, err := environment()
	if err != nil {
		t.Fatal(err)
	}
	expr := `record.attestations.all(a, record.attestations.all(b, a.at <= b.at || a.kind != b.kind))`
	prg, err := compileExpr(env, expr, cel.BoolType, costLimits{static: ^uint64(0), runtime: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, custom(`true`, `now`))
	c.eligible = prg
	start := at(t, "2026-01-05T00:00:00Z")
	r := &Record{ID: "r", Start: start}
	for i := 0; i < 500; i++ {
		r.Attestations = append(r.Attestations, attest(fmt.Sprint("k", i%3), start.Add(time.Duration(i)*time.Second)))
	}
	begin := time.Now()
	_, err = c.Evaluate(r, start)
	if err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Fatalf("error %v, want a cost limit error", err)
	}
	if elapsed := time.Since(begin); elapsed > time.Second {
		t.Fatalf("stopping took %v", elapsed)
	}
}
