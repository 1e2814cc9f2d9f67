package importer

import (
	"fmt"
	"strings"
)

// categoryNames maps the Chinese names of the built-in categories (DESIGN 5)
// to their ids; the ids themselves are accepted as they are.
var categoryNames = map[string]string{
	"失信被执行人": "court-defaulter",
	"严重失信":   "serious-dishonesty",
	"一般失信":   "general-dishonesty",
	"轻微失信":   "minor-dishonesty",
}

// categorySuffixes are dropped before looking a name up: 严重失信主体名单
// is 严重失信.
var categorySuffixes = []string{"名单", "主体", "行为", "信息"}

// ParseCategory returns the category id a cell names. Ids that are not
// built in (a category added by a later genesis) pass through as written;
// whether the recorder may use them is checked against network.json.
func ParseCategory(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	lower := strings.ToLower(s)
	for _, id := range categoryNames {
		if lower == id {
			return id, nil
		}
	}
	name := s
	for changed := true; changed; {
		changed = false
		if id, ok := categoryNames[name]; ok {
			return id, nil
		}
		for _, suf := range categorySuffixes {
			if trimmed, ok := strings.CutSuffix(name, suf); ok && trimmed != "" {
				name, changed = trimmed, true
			}
		}
	}
	if isASCIIID(lower) {
		return lower, nil
	}
	return "", fmt.Errorf("%q is not a category (失信被执行人, 严重失信, 一般失信, 轻微失信 or an id such as court-defaulter)", s)
}

// isASCIIID reports whether s looks like a category id: lowercase letters,
// digits and '-'.
func isASCIIID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return s != ""
}

// splitMeasures splits a measures cell on the separators lists use (；;、,，
// and line breaks), dropping empty parts and repeats.
func splitMeasures(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune("；;、,，\n\r", r)
	})
	out := make([]string, 0, len(parts))
	seen := map[string]bool{}
	for _, p := range parts {
		p = strings.TrimFunc(p, isSpace)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
