package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is an ISO 8601 duration (PnYnMnDTnHnMnS) kept in calendar units.
// Years, months and days are not converted to a fixed number of seconds: a
// legal term of "P2Y" ends on the same calendar date two years later,
// whatever leap days lie in between.
type Duration struct {
	Years, Months, Days, Hours, Minutes, Seconds int
}

// maxComponent bounds every component so that the clock part always fits in
// a time.Duration (1e6 hours is about 114 years) and years stay within the
// range CEL timestamps can represent.
const (
	maxComponent = 1_000_000
	maxYears     = 9999
)

// ParseDuration parses the subset of ISO 8601 durations the ledger uses:
// "P" followed by optional nY, nM, nD, then optionally "T" and nH, nM, nS,
// each n a non-negative decimal integer, in that order, with at least one
// component. Weeks, fractions and signs are rejected so that every value has
// exactly one meaning on every node.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	if !strings.HasPrefix(s, "P") {
		return d, fmt.Errorf("duration %q: must start with P", s)
	}
	rest := s[1:]
	datePart, timePart, hasT := strings.Cut(rest, "T")
	if hasT && timePart == "" {
		return d, fmt.Errorf("duration %q: T must be followed by a time component", s)
	}
	if datePart == "" && !hasT {
		return d, fmt.Errorf("duration %q: no components", s)
	}
	if err := parseComponents(datePart, "YMD", []*int{&d.Years, &d.Months, &d.Days}); err != nil {
		return Duration{}, fmt.Errorf("duration %q: %w", s, err)
	}
	if err := parseComponents(timePart, "HMS", []*int{&d.Hours, &d.Minutes, &d.Seconds}); err != nil {
		return Duration{}, fmt.Errorf("duration %q: %w", s, err)
	}
	if d.Years > maxYears {
		return Duration{}, fmt.Errorf("duration %q: more than %d years", s, maxYears)
	}
	return d, nil
}

// parseComponents reads "<digits><designator>" pairs whose designators must
// appear in the order given by designators, each at most once.
func parseComponents(s, designators string, dst []*int) error {
	next := 0
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return fmt.Errorf("malformed component %q", s)
		}
		pos := strings.IndexByte(designators[next:], s[i])
		if pos < 0 {
			return fmt.Errorf("unexpected or out-of-order designator %q", s[i])
		}
		if i > 7 {
			return fmt.Errorf("component %s%c too large", s[:i], s[i])
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return fmt.Errorf("component %s%c: %w", s[:i], s[i], err)
		}
		if n > maxComponent {
			return fmt.Errorf("component %s%c too large (max %d)", s[:i], s[i], maxComponent)
		}
		*dst[next+pos] = n
		next += pos + 1
		s = s[i+1:]
	}
	return nil
}

// MustParseDuration is ParseDuration for constants known to be valid.
func MustParseDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the canonical form: zero components omitted, "PT0S" for the
// zero duration. It parses back to the same value.
func (d Duration) String() string {
	if d.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	writeComponent(&b, d.Years, 'Y')
	writeComponent(&b, d.Months, 'M')
	writeComponent(&b, d.Days, 'D')
	if d.Hours != 0 || d.Minutes != 0 || d.Seconds != 0 {
		b.WriteByte('T')
		writeComponent(&b, d.Hours, 'H')
		writeComponent(&b, d.Minutes, 'M')
		writeComponent(&b, d.Seconds, 'S')
	}
	return b.String()
}

func writeComponent(b *strings.Builder, n int, designator byte) {
	if n != 0 {
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(designator)
	}
}

// IsZero reports whether every component is zero.
func (d Duration) IsZero() bool {
	return d == Duration{}
}

// AddTo adds d to t with calendar arithmetic: first t.AddDate(years, months,
// days), which normalizes dates that do not exist (2024-02-29 + P1Y =
// 2025-03-01, 2025-01-31 + P1M = 2025-03-03), then the clock part as an
// exact duration. The ledger passes UTC times, so the result is UTC too.
func (d Duration) AddTo(t time.Time) time.Time {
	clock := time.Duration(d.Hours)*time.Hour +
		time.Duration(d.Minutes)*time.Minute +
		time.Duration(d.Seconds)*time.Second
	return t.AddDate(d.Years, d.Months, d.Days).Add(clock)
}

// MarshalText encodes d in its canonical ISO 8601 form.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText decodes an ISO 8601 duration with ParseDuration's rules.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
