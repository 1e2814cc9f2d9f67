package importer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSummaryPrint(t *testing.T) {
	s := &Summary{Encoding: "gbk", Rows: 10, Valid: 9, Invalid: 1, Earlier: 4, Sent: 5, Refused: 1, Committed: 6, Rejected: 2,
		CommittedEarlier: 1, Upto: 11, Elapsed: 2 * time.Second, ReportPath: "r.csv", StatePath: "s",
		Problems: []Problem{
			{Line: 3, Stage: StageValidate, Column: "期限", Reason: "term: empty"},
			{Line: 5, Stage: StageIntake, Reason: "invalid_uscc: check character"},
			{Line: 7, Stage: StageConsensus, Reason: "unknown_policy: no active policy \"x\""},
			{Line: 8, Stage: StageConsensus, Reason: "unknown_policy: no active policy \"y\""},
		}}
	var b bytes.Buffer
	s.Print(&b, "list.csv", true)
	out := b.String()
	for _, want := range []string{
		"import list.csv (gbk): 10 rows, 9 valid, 1 invalid",
		"line 3 [期限]: term: empty",
		"skipping the 1 invalid rows",
		"sent: 5 in this run, 4 by earlier runs; refused by intake: 1",
		"committed: 6, rejected: 2, pending: 0",
		"rate: 2.5 rows/s end to end (5 rows committed in 2s",
		"refused by intake invalid_uscc: 1 rows (lines 5)",
		"rejected unknown_policy: 2 rows (lines 7, 8)",
		"every row up to line 11",
		"report: r.csv (4 problems)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if s.Complete(true) {
		t.Error("a summary with rejections is complete")
	}
	done := &Summary{Valid: 3, Committed: 3, Invalid: 1}
	if !done.Complete(true) || done.Complete(false) {
		t.Error("Complete: all valid rows committed, one invalid row skipped")
	}
}
