package ids

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
)

// LegacyList is an explicit allow-list of early pilot USCCs that fail their
// check character yet were issued and are in use. The zero value is empty.
// A LegacyList is immutable once built, so it is safe to share.
type LegacyList struct {
	codes map[string]struct{}
}

// NewLegacyList builds an allow-list from codes taken exactly as written.
// Entries are not validated here (see ParseLegacyList); CheckUSCCWith still
// rejects any listed code that is wrong anywhere but its check character.
func NewLegacyList(codes []string) LegacyList {
	m := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		m[c] = struct{}{}
	}
	return LegacyList{codes: m}
}

// ParseLegacyList reads an allow-list written one code per line; blank lines
// and lines starting with '#' are skipped and surrounding spaces trimmed.
// Unlike NewLegacyList it refuses entries that are malformed apart from the
// check character, naming the line, because a typo in the list would
// otherwise go unnoticed until a subject is rejected.
func ParseLegacyList(text string) (LegacyList, error) {
	var codes []string
	for i, line := range strings.Split(text, "\n") {
		code := strings.TrimSpace(line)
		if code == "" || strings.HasPrefix(code, "#") {
			continue
		}
		if err := checkUSCCStructure(code); err != nil {
			return LegacyList{}, fmt.Errorf("legacy list line %d: %w", i+1, err)
		}
		codes = append(codes, code)
	}
	return NewLegacyList(codes), nil
}

// Contains reports whether code is on the list, compared exactly.
func (l LegacyList) Contains(code string) bool {
	_, ok := l.codes[code]
	return ok
}

// Len is the number of codes on the list.
func (l LegacyList) Len() int { return len(l.codes) }

// Codes returns the listed codes sorted, e.g. to write them into a genesis.
func (l LegacyList) Codes() []string {
	out := make([]string, 0, len(l.codes))
	for c := range l.codes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// defaultLegacy is the list CheckUSCC and Classify use. It starts empty so
// nothing is accepted silently; a service sets it from its genesis.
var defaultLegacy atomic.Pointer[LegacyList]

// SetDefaultLegacyList replaces the allow-list used by CheckUSCC,
// IsLegacyUSCC and Classify. Safe for concurrent use.
func SetDefaultLegacyList(l LegacyList) {
	defaultLegacy.Store(&l)
}

// DefaultLegacyList returns the allow-list used by CheckUSCC; empty unless
// SetDefaultLegacyList was called.
func DefaultLegacyList() LegacyList {
	if l := defaultLegacy.Load(); l != nil {
		return *l
	}
	return LegacyList{}
}
