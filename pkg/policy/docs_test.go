package policy

import (
	"os"
	"strings"
	"testing"
)

// docs/policies.md quotes every built-in expression; reviewers approve what
// they read there, so it must be exactly what is on the ledger.
func TestDocsQuoteBuiltins(t *testing.T) {
	raw, err := os.ReadFile("../../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, p := range Builtins() {
		section := "### `" + p.ID + "`"
		i := strings.Index(doc, section)
		if i < 0 {
			t.Errorf("%s: no section %q", p.ID, section)
			continue
		}
		body := doc[i+len(section):]
		if j := strings.Index(body, "\n### "); j >= 0 {
			body = body[:j]
		}
		for name, expr := range map[string]string{"eligible": p.Eligible, "due": p.Due} {
			if !strings.Contains(body, "```cel\n"+expr+"\n```") {
				t.Errorf("%s: the %s expression is not quoted verbatim", p.ID, name)
			}
		}
		if !strings.Contains(body, "`purge_after`: `"+p.PurgeAfter+"`") {
			t.Errorf("%s: purge_after %s not stated", p.ID, p.PurgeAfter)
		}
	}
}
