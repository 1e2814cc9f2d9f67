package importer

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.csv")
	probs := []Problem{
		{Line: 9, Stage: StageConsensus, Value: "abc", Reason: "unknown_policy: no active policy"},
		{Line: 3, Stage: StageValidate, Column: "统一社会信用代码", Value: "91350200776049653B", Reason: "uscc: check character, \"quoted\""},
	}
	if err := WriteReport(path, probs); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "\uFEFF") {
		t.Error("report without a BOM: Excel would garble the Chinese")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{ReportHeader,
		{"3", "validate", "统一社会信用代码", "91350200776049653B", `uscc: check character, "quoted"`},
		{"9", "consensus", "", "abc", "unknown_policy: no active policy"}}
	if len(recs) != len(want) {
		t.Fatalf("report %q", recs)
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("report line %d: %q, want %q", i+1, recs[i], want[i])
		}
	}
}
