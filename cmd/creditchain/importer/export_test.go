package importer

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/txn"
)

// TestExportRowReimports checks the round trip at the level of one row:
// a record exported as CSV parses back into the record.create it came
// from, for an organization and (with --include-personal) a person.
func TestExportRowReimports(t *testing.T) {
	listed := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	org := &ledger.Record{ID: strings.Repeat("1", 64), Status: "active", Authority: "11350200MA0000001X",
		Subject:  txn.Subject{Kind: "organization", USCC: orgCode(t, 5), Name: "厦门某某有限公司"},
		Category: "court-defaulter", Measures: []string{"high_consumption_ban", "travel_ban"},
		Basis: txn.Basis{DocumentNo: "(2026)闽02执5号", DecidedAt: "2026-01-04T16:00:00Z", Law: testLaw},
		// A start that is not China midnight must survive exactly.
		Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Term: "P2Y",
		Policy: ledger.PolicyRef{ID: "court-defaulter", Version: 1}, History: []ledger.HistoryEntry{{Time: listed}}}
	person := &ledger.Record{ID: strings.Repeat("2", 64), Status: "exited", Authority: "11350200MA0000001X",
		Subject:  txn.Subject{Kind: "person", Commitment: strings.Repeat("c", 64)},
		Category: "court-defaulter", Measures: []string{},
		Basis: txn.Basis{DocumentNo: "(2026)闽02执6号", DecidedAt: "2026-02-01T16:00:00Z", Law: testLaw},
		Start: time.Date(2026, 2, 1, 16, 0, 0, 0, time.UTC), Policy: ledger.PolicyRef{ID: "court-defaulter", Version: 2},
		Exit: &ledger.Exit{Time: listed.Add(time.Hour), Reason: "performed"}, History: []ledger.HistoryEntry{{Time: listed}}}
	sidecar := &txn.Personal{Name: "欧阳娜", IDNumber: citizenID(t, 9)}

	masked := ExportRow(person, sidecar, false)
	col := func(row []string, name string) string { return row[slices.Index(ExportColumns, name)] }
	if col(masked, "id_number") != ids6(citizenID(t, 9)) || col(masked, "name") != "欧**" || col(masked, "term") != "无期限" ||
		col(masked, "status") != "exited" || col(masked, "exit_reason") != "performed" || col(masked, "policy_version") != "2" {
		t.Errorf("masked person row %q", masked)
	}

	rows := []Row{{Line: 2, Cells: ExportRow(org, nil, false)}, {Line: 3, Cells: ExportRow(person, sidecar, true)}, {Line: 4, Cells: masked}}
	p := testParser(t, ExportColumns, nil)
	if strings.Join(p.Cols.Ignored, ",") != "record_id,status,authority,policy_version,listed_at,exited_at,exit_reason" {
		t.Errorf("ignored columns %q", p.Cols.Ignored)
	}
	items, probs := p.Parse(rows)
	if len(items) != 2 {
		t.Fatalf("items %d, problems %+v", len(items), probs)
	}
	if len(probs) != 2 || probs[0].Line != 4 || !strings.Contains(probs[0].Reason, "masked") {
		t.Errorf("the masked person should not re-import: %+v", probs)
	}
	for i, rec := range []*ledger.Record{org, person} {
		got := items[i].Payload
		if got.Subject.Kind != rec.Subject.Kind || got.Subject.USCC != rec.Subject.USCC || got.Subject.Name != rec.Subject.Name ||
			got.Category != rec.Category || !slices.Equal(got.Measures, rec.Measures) || got.Basis != rec.Basis ||
			got.Start != txn.FormatTime(rec.Start) || got.Term != rec.Term || got.Policy != rec.Policy.ID {
			t.Errorf("record %d re-imports as %+v, was %+v", i, got, rec)
		}
	}
	if pp := items[1].Person; pp == nil || *pp != *sidecar {
		t.Errorf("person sidecar re-imports as %+v", items[1].Person)
	}
}

func ids6(id string) string { return id[:6] + "********" + id[14:] }
