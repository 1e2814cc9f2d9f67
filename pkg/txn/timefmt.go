package txn

import (
	"fmt"
	"regexp"
	"time"
)

// utcTimePattern is RFC 3339 in UTC with a literal "Z" and at most nine
// fractional digits (DESIGN 9.6). Offsets, even "+00:00", are refused so
// that one instant has one spelling on the ledger.
var utcTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$`)

// ParseTime parses a contract time: RFC 3339 in UTC with "Z", up to
// nanoseconds (2026-11-25T08:00:00.123456789Z).
func ParseTime(s string) (time.Time, error) {
	if !utcTimePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("time %q is not RFC 3339 in UTC ending in Z (e.g. 2026-11-25T08:00:00Z)", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t, nil
}

// FormatTime writes t in the contract's time format, in UTC, with as many
// fractional digits as needed (none for whole seconds).
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
