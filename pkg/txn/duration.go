package txn

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is an ISO 8601 duration as the contract uses them for terms and
// retention (P2Y, P3M, P1Y6M, P30D, PT12H). Calendar parts are kept apart
// from clock parts because a year or a month has no fixed length.
type Duration struct {
	Years, Months, Days     int
	Hours, Minutes, Seconds int
}

// maxDurationDigits bounds each number so that AddTo cannot overflow.
const maxDurationDigits = 6

// ParseDuration parses PnYnMnWnDTnHnMnS with non-negative integer parts, in
// that order, each at most once and at least one present. Weeks are folded
// into days (P2W = P14D). Fractions and signs are refused.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		return d, fmt.Errorf("duration %q must start with P (e.g. P2Y, P3M, P30D)", s)
	}
	datePart, timePart, hasT := strings.Cut(rest, "T")
	if hasT && timePart == "" {
		return d, fmt.Errorf("duration %q has T without hours, minutes or seconds", s)
	}
	n := 0
	weeks := 0
	if err := parseParts(s, datePart, "YMWD", []*int{&d.Years, &d.Months, &weeks, &d.Days}, &n); err != nil {
		return Duration{}, err
	}
	if err := parseParts(s, timePart, "HMS", []*int{&d.Hours, &d.Minutes, &d.Seconds}, &n); err != nil {
		return Duration{}, err
	}
	if n == 0 {
		return Duration{}, fmt.Errorf("duration %q has no parts", s)
	}
	d.Days += 7 * weeks
	return d, nil
}

// parseParts reads number+designator pairs from part, designators in the
// order given by units, into dst; it counts the parts read in n.
func parseParts(whole, part, units string, dst []*int, n *int) error {
	next := 0
	for part != "" {
		i := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return fmt.Errorf("duration %q: expected a number before each unit", whole)
		}
		if i > maxDurationDigits {
			return fmt.Errorf("duration %q: number %s too large", whole, part[:i])
		}
		v, _ := strconv.Atoi(part[:i])
		u := strings.IndexByte(units[next:], part[i])
		if u < 0 {
			return fmt.Errorf("duration %q: unexpected %q (units go %s, each once)", whole, part[i], units)
		}
		next += u
		*dst[next] = v
		next++
		*n++
		part = part[i+1:]
	}
	return nil
}

// String writes d in ISO 8601, weeks as days; the zero Duration is "PT0S".
func (d Duration) String() string {
	var b strings.Builder
	b.WriteByte('P')
	for _, p := range []struct {
		v int
		u byte
	}{{d.Years, 'Y'}, {d.Months, 'M'}, {d.Days, 'D'}} {
		if p.v != 0 {
			b.WriteString(strconv.Itoa(p.v))
			b.WriteByte(p.u)
		}
	}
	if d.Hours != 0 || d.Minutes != 0 || d.Seconds != 0 {
		b.WriteByte('T')
		for _, p := range []struct {
			v int
			u byte
		}{{d.Hours, 'H'}, {d.Minutes, 'M'}, {d.Seconds, 'S'}} {
			if p.v != 0 {
				b.WriteString(strconv.Itoa(p.v))
				b.WriteByte(p.u)
			}
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

// AddTo returns t + d with calendar arithmetic, in t's location:
//
//  1. years and months move the calendar month; when the target month is
//     shorter than t's day, the result is its last day (2024-01-31 + P1M =
//     2024-02-29; 2024-02-29 + P1Y = 2025-02-28), as the Civil Code art. 202
//     counts periods in months and years ("no corresponding day: the last day
//     of the month"); Go's AddDate would roll over into the next month;
//  2. then days are added as calendar days;
//  3. then hours, minutes and seconds as elapsed time.
func (d Duration) AddTo(t time.Time) time.Time {
	y, m, day := t.Date()
	months := int(m) - 1 + d.Months + 12*d.Years
	y += months / 12
	m = time.Month(months%12 + 1)
	if last := daysIn(y, m); day > last {
		day = last
	}
	hh, mm, ss := t.Clock()
	r := time.Date(y, m, day, hh, mm, ss, t.Nanosecond(), t.Location())
	r = r.AddDate(0, 0, d.Days)
	return r.Add(time.Duration(d.Hours)*time.Hour + time.Duration(d.Minutes)*time.Minute +
		time.Duration(d.Seconds)*time.Second)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
