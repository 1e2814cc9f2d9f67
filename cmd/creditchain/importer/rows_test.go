package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/txn"
)

var rowHeader = []string{"主体类型", "统一社会信用代码", "身份证号", "名称", "失信类别", "惩戒措施", "案号", "决定日期", "起始日期", "期限", "法律依据", "政策"}

const testLaw = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条"

// goodRow is a valid organization row; edit replaces cells by column index.
func goodRow(t *testing.T, i int, edit map[int]string) []string {
	r := []string{"", orgCode(t, i), "", "厦门某某有限公司", "失信被执行人", "限制高消费；限制出境", "(2026)闽02执" + string(rune('0'+i%10)) + "号",
		"2026/1/5", "", "2年", testLaw, ""}
	for k, v := range edit {
		r[k] = v
	}
	return r
}

func TestParseGoodRows(t *testing.T) {
	p := testParser(t, rowHeader, nil)
	person := goodRow(t, 2, map[int]string{1: "", 2: citizenID(t, 7), 3: "张三", 9: "无期限", 8: "2026年2月1日"})
	// Identifiers are taken without spaces and in uppercase: 11010519491231002x
	// is the ID 11010519491231002X typed with a lowercase x.
	lower := goodRow(t, 3, map[int]string{1: "", 2: " 11010519491231002x", 3: "李四"})
	items, probs := p.Parse([]Row{{Line: 2, Cells: goodRow(t, 1, nil)}, {Line: 3, Cells: person}, {Line: 4, Cells: lower}})
	if len(probs) != 0 || len(items) != 3 || items[2].Person.IDNumber != "11010519491231002X" {
		t.Fatalf("problems %+v", probs)
	}
	org := items[0].Payload
	if org.Subject != (txn.Subject{Kind: "organization", USCC: orgCode(t, 1), Name: "厦门某某有限公司"}) ||
		org.Category != "court-defaulter" || org.Policy != "court-defaulter" || org.Term != "P2Y" ||
		!slices.Equal(org.Measures, []string{"限制高消费", "限制出境"}) ||
		org.Basis.DecidedAt != "2026-01-04T16:00:00Z" || org.Start != org.Basis.DecidedAt || org.Basis.Law != testLaw {
		t.Errorf("organization payload %+v", org)
	}
	per := items[1]
	if per.Payload.Subject.Kind != "person" || per.Payload.Subject.USCC != "" || per.Payload.Subject.Name != "" ||
		per.Person == nil || per.Person.Name != "张三" || per.Person.IDNumber != citizenID(t, 7) ||
		per.Payload.Term != "" || per.Payload.Start != "2026-01-31T16:00:00Z" {
		t.Errorf("person item %+v %+v", per.Payload, per.Person)
	}
}

// TestParseBadRows gives one fault per row and checks each reason names it
// and the column it is in.
func TestParseBadRows(t *testing.T) {
	p := testParser(t, rowHeader, nil)
	badUSCC := orgCode(t, 3)
	badUSCC = badUSCC[:17] + map[bool]string{true: "1", false: "0"}[badUSCC[17] == '0']
	cases := []struct {
		cells  []string
		column string
		reason string
	}{
		{goodRow(t, 3, map[int]string{1: badUSCC}), "统一社会信用代码", "check character"},
		{goodRow(t, 4, map[int]string{1: ""}), "统一社会信用代码", "no identifier"},
		{goodRow(t, 5, map[int]string{2: citizenID(t, 1)}), "统一社会信用代码", "both uscc and id_number"},
		{goodRow(t, 6, map[int]string{0: "合伙"}), "主体类型", "not organization"},
		{goodRow(t, 7, map[int]string{3: ""}), "名称", "name empty"},
		{goodRow(t, 8, map[int]string{4: "严重失信"}), "失信类别", "may record only court-defaulter"},
		{goodRow(t, 9, map[int]string{4: "黑名单"}), "失信类别", "not a category"},
		{goodRow(t, 10, map[int]string{6: ""}), "案号", "document_no empty"},
		{goodRow(t, 11, map[int]string{7: "2026/2/30"}), "决定日期", "not a real date"},
		{goodRow(t, 12, map[int]string{7: "2027-01-05"}), "决定日期", "in the future"},
		{goodRow(t, 13, map[int]string{8: "下周"}), "起始日期", "not a date"},
		{goodRow(t, 14, map[int]string{9: ""}), "期限", "无期限"},
		{goodRow(t, 15, map[int]string{9: "两年半"}), "期限", "not a term"},
		{goodRow(t, 16, map[int]string{10: ""}), "法律依据", "law empty"},
		{goodRow(t, 17, map[int]string{1: "", 2: "110105194912310021", 3: "张三"}), "身份证号", "check character"},
		{goodRow(t, 18, map[int]string{1: "", 2: "110105********002X", 3: "张*"}), "身份证号", "masked"},
		{goodRow(t, 19, map[int]string{1: "", 2: citizenID(t, 2), 3: "张*"}), "名称", "masked"},
		{goodRow(t, 20, map[int]string{1: "", 2: "350203" + "20300101" + "0017"}), "身份证号", "birth"},
		{goodRow(t, 21, map[int]string{11: "无此政策", 5: "travel_ban；travel_ban"}), "", ""}, // valid: measures dedupe; policy checked by consensus
	}
	var rows []Row
	for i, c := range cases {
		rows = append(rows, Row{Line: i + 2, Cells: c.cells})
	}
	// A repeat of line 2's subject and case number is a duplicate.
	rows = append(rows, Row{Line: 100, Cells: cases[len(cases)-1].cells})
	items, probs := p.Parse(rows)
	byLine := map[int][]Problem{}
	for _, pr := range probs {
		if pr.Stage != StageValidate {
			t.Errorf("stage %q", pr.Stage)
		}
		byLine[pr.Line] = append(byLine[pr.Line], pr)
	}
	for i, c := range cases {
		line := i + 2
		got := byLine[line]
		if c.reason == "" {
			if len(got) != 0 {
				t.Errorf("line %d: unexpected problems %+v", line, got)
			}
			continue
		}
		found := false
		for _, pr := range got {
			if pr.Column == c.column && strings.Contains(pr.Reason, c.reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("line %d: problems %+v, want [%s] %q", line, got, c.column, c.reason)
		}
	}
	if d := byLine[100]; len(d) != 1 || !strings.Contains(d[0].Reason, "duplicate of line 20") {
		t.Errorf("duplicate row: %+v", d)
	}
	if len(items) != 1 || items[0].Line != 20 || !slices.Equal(items[0].Payload.Measures, []string{"travel_ban"}) || items[0].Payload.Policy != "无此政策" {
		t.Errorf("items %+v", items)
	}
	// Persons' values are masked in problems: the report travels.
	for _, pr := range probs {
		if strings.Contains(pr.Value, citizenID(t, 2)) || strings.Contains(pr.Value, "350203203001010017") {
			t.Errorf("problem shows a full ID number: %+v", pr)
		}
	}
}

func TestParseCollectsEveryFault(t *testing.T) {
	p := testParser(t, rowHeader, nil)
	_, probs := p.Parse([]Row{{Line: 7, Cells: goodRow(t, 1, map[int]string{4: "黑名单", 7: "昨天", 9: "", 10: ""})}})
	if len(probs) != 4 {
		t.Errorf("want 4 problems (category, decided_at, term, law), got %+v", probs)
	}
}
