package importer

import (
	"strings"
	"testing"
)

func TestResolveDefaultAliases(t *testing.T) {
	header := []string{"序号", "统一社会信用代码", "企业名称", "失信类别", "惩戒措施", "案号", "决定日期", "起始日期", "期限", "法律依据", "备注"}
	c, err := Resolve(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Field]int{FieldUSCC: 1, FieldName: 2, FieldCategory: 3, FieldMeasures: 4, FieldDocumentNo: 5,
		FieldDecidedAt: 6, FieldStart: 7, FieldTerm: 8, FieldLaw: 9}
	for f, i := range want {
		if c.index[f] != i {
			t.Errorf("%s at column %d, want %d", f, c.index[f], i)
		}
	}
	if strings.Join(c.Ignored, ",") != "序号,备注" {
		t.Errorf("ignored %q", c.Ignored)
	}
	// English, in any case and spacing.
	c, err = Resolve([]string{"USCC", "Name", "Category", "Document No", "decided_at", "TERM", "Law", "id_number", "Person Name"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Field{FieldUSCC, FieldName, FieldCategory, FieldDocumentNo, FieldDecidedAt, FieldTerm, FieldLaw, FieldIDNumber, FieldPersonName} {
		if _, ok := c.index[f]; !ok {
			t.Errorf("%s not found in an English header", f)
		}
	}
}

func TestResolveRefusesGuesses(t *testing.T) {
	cases := []struct {
		header []string
		m      *Mapping
		want   string
	}{
		{[]string{"名称", "企业名称"}, nil, "could both be name"},
		{[]string{"案号", "案号"}, nil, "2 columns named"},
		{[]string{"纳税人识别号"}, &Mapping{Columns: map[Field]Names{FieldUSCC: {"税号"}}}, `no column "税号"`},
		{[]string{"编号"}, &Mapping{Columns: map[Field]Names{FieldUSCC: {"编号"}, FieldDocumentNo: {"编号"}}}, "both uscc and document_no"},
	}
	for _, c := range cases {
		if _, err := Resolve(c.header, c.m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%q): %v, want an error saying %q", c.header, err, c.want)
		}
	}
}

func TestMappingFile(t *testing.T) {
	path := writeFile(t, "mapping.json", []byte(`{
		"columns": {"uscc": ["税号", "纳税人识别号"], "document_no": "处罚决定书文号", "name": "纳税人名称"},
		"defaults": {"law": "《重大税收违法失信主体信息公布管理办法》", "category": "严重失信", "term": "3年"},
		"sheet": "名单"}`))
	m, err := LoadMapping(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sheet != "名单" || len(m.Columns[FieldUSCC]) != 2 || m.Columns[FieldDocumentNo][0] != "处罚决定书文号" {
		t.Fatalf("mapping %+v", m)
	}
	header := []string{"纳税人识别号", "纳税人名称", "处罚决定书文号", "决定日期"}
	p := testParser(t, header, m)
	p.Categories = []string{"serious-dishonesty"}
	if err := p.CheckHeader(); err != nil {
		t.Fatalf("defaults should satisfy the required fields: %v", err)
	}
	items, probs := p.Parse([]Row{{Line: 2, Cells: []string{orgCode(t, 1), "厦门某某贸易有限公司", "厦税稽罚〔2026〕7号", "2026-03-01"}}})
	if len(probs) != 0 || len(items) != 1 {
		t.Fatalf("problems %+v", probs)
	}
	pl := items[0].Payload
	if pl.Category != "serious-dishonesty" || pl.Policy != "serious-dishonesty" || pl.Term != "P3Y" ||
		pl.Basis.Law != "《重大税收违法失信主体信息公布管理办法》" || pl.Basis.DocumentNo != "厦税稽罚〔2026〕7号" {
		t.Errorf("payload %+v", pl)
	}

	for body, want := range map[string]string{
		`{"columns": {"ucsc": "x"}}`:  `unknown field "ucsc"`,
		`{"defaults": {"laws": "x"}}`: `unknown field "laws"`,
		`{"column": {}}`:              "unknown field",
		`{"columns": {"uscc": 3}}`:    "column name or a list",
		`{"columns": {"uscc": []}}`:   "names no column",
	} {
		if _, err := LoadMapping(writeFile(t, "m.json", []byte(body))); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mapping %s: %v, want %q", body, err, want)
		}
	}
}

func TestCheckHeaderNamesMissingFields(t *testing.T) {
	p := testParser(t, []string{"名称", "统一社会信用代码", "案号"}, nil)
	err := p.CheckHeader()
	if err == nil {
		t.Fatal("a header without category, dates, term and law passed")
	}
	for _, f := range []string{"category", "decided_at", "term", "law"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%v does not name %s", err, f)
		}
	}
	if strings.Contains(err.Error(), "document_no") {
		t.Errorf("%v names document_no, which is there", err)
	}
}
