package importer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// chinaTime is UTC+8 without daylight saving (none since 1991), fixed in
// code so that results do not depend on the host's time zone database.
var chinaTime = time.FixedZone("CST", 8*60*60)

var (
	// 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, each optionally followed by
	// a time of day (15:04 or 15:04:05) as database exports write them.
	datePattern = regexp.MustCompile(`^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?` +
		`(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)
	compactDatePattern = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	serialPattern      = regexp.MustCompile(`^\d{1,7}(\.\d+)?$`)
)

// Excel's serial day numbers: 1900 system (day 1 = 1900-01-01, counting the
// non-existent 1900-02-29 as day 60, so from day 61 on, day 0 is
// 1899-12-30) and 1904 system (day 0 = 1904-01-01).
var (
	excelEpoch1900 = time.Date(1899, 12, 30, 0, 0, 0, 0, chinaTime)
	excelEpoch1904 = time.Date(1904, 1, 1, 0, 0, 0, 0, chinaTime)
)

const maxExcelSerial = 2958465 // 9999-12-31

// ParseDate reads a date as the lists write it and returns the instant it
// names, in UTC. A legal date is a date in China: 2026-01-05 is the instant
// 2026-01-05T00:00:00+08:00, that is 2026-01-04T16:00:00Z, so that adding
// a term of P2Y ends the record at midnight of 2028-01-05 in China.
//
// Accepted: 2026-01-05, 2026-1-5, 2026/1/5, 2026.1.5, 2026年1月5日 (each
// with an optional time of day, China time), 20260105, RFC 3339 with an
// offset or Z (the exact instant, as `creditchain export` writes times that
// are not China midnight), and Excel serial day numbers (46027, with an
// optional fraction for the time of day), 1904-based when date1904.
func ParseDate(s string, date1904 bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty")
	}
	if strings.ContainsAny(s, "Tt") && (strings.HasSuffix(s, "Z") || strings.Count(s, ":") >= 2) {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	if m := datePattern.FindStringSubmatch(s); m != nil {
		return civil(m[1], m[2], m[3], m[4], m[5], m[6], s)
	}
	if m := compactDatePattern.FindStringSubmatch(s); m != nil {
		return civil(m[1], m[2], m[3], "", "", "", s)
	}
	if serialPattern.MatchString(s) {
		return excelSerial(s, date1904)
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-01-05, 2026/1/5, 2026年1月5日 or an Excel date)", s)
}

func civil(ys, ms, ds, hs, mins, secs, whole string) (time.Time, error) {
	y, _ := strconv.Atoi(ys)
	mo, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	h, mi, se := 0, 0, 0
	if hs != "" {
		h, _ = strconv.Atoi(hs)
		mi, _ = strconv.Atoi(mins)
		se, _ = strconv.Atoi(secs)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, chinaTime)
	// time.Date normalizes 2026-02-30 to March 2; a real date survives.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != se {
		return time.Time{}, fmt.Errorf("%q is not a real date", whole)
	}
	if y < 1900 {
		return time.Time{}, fmt.Errorf("%q is before 1900", whole)
	}
	return t.UTC(), nil
}

func excelSerial(s string, date1904 bool) (time.Time, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v > maxExcelSerial {
		return time.Time{}, fmt.Errorf("%q is not an Excel date serial", s)
	}
	epoch := excelEpoch1904
	if !date1904 {
		// Days 1–60 of the 1900 system straddle Excel's fictitious
		// 1900-02-29; no dishonesty record is that old.
		if v < 61 {
			return time.Time{}, fmt.Errorf("%q as an Excel date is before 1900-03-01", s)
		}
		epoch = excelEpoch1900
	}
	days := math.Floor(v)
	// Round the time of day to the second: serials are binary fractions.
	secs := math.Round((v - days) * 86400)
	return epoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second).UTC(), nil
}

// FormatDate writes t as `creditchain export` does: the China date alone
// (2026-01-05) when t is midnight in China, which is how ParseDate reads a
// date, and RFC 3339 in UTC otherwise, so that every instant round-trips.
func FormatDate(t time.Time) string {
	c := t.In(chinaTime)
	if c.Hour() == 0 && c.Minute() == 0 && c.Second() == 0 && c.Nanosecond() == 0 {
		return c.Format("2006-01-02")
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// endOfTodayInChina is the midnight that ends today in China: a decision
// dated after it is a typing error.
func endOfTodayInChina(now time.Time) time.Time {
	c := now.In(chinaTime)
	return time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, chinaTime)
}
