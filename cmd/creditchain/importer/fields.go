package importer

import (
	"strings"
	"unicode"
)

// Field is a record.create field (or a subject part) that a column maps to.
// Its string is the column name `creditchain export` writes, so that an
// export re-imports with the default mapping.
type Field string

// The fields a row can carry.
const (
	FieldKind       Field = "kind"
	FieldUSCC       Field = "uscc"
	FieldIDNumber   Field = "id_number"
	FieldName       Field = "name"
	FieldPersonName Field = "person_name"
	FieldCategory   Field = "category"
	FieldMeasures   Field = "measures"
	FieldDocumentNo Field = "document_no"
	FieldDecidedAt  Field = "decided_at"
	FieldStart      Field = "start"
	FieldTerm       Field = "term"
	FieldLaw        Field = "law"
	FieldPolicy     Field = "policy"
	FieldReportRef  Field = "report_ref"
)

// Fields lists every field in the order of the documentation.
var Fields = []Field{
	FieldKind, FieldUSCC, FieldIDNumber, FieldName, FieldPersonName, FieldCategory,
	FieldMeasures, FieldDocumentNo, FieldDecidedAt, FieldStart, FieldTerm, FieldLaw,
	FieldPolicy, FieldReportRef,
}

// DefaultAliases are the column names recognised without a mapping file,
// Chinese as the lists of courts and regulators head them, and English.
// Names are compared after normalizeHeader, so case, spaces, '_' and '-' do
// not matter. docs/import-export.md has this table; keep them in step.
var DefaultAliases = map[Field][]string{
	FieldKind:       {"主体类型", "主体性质", "kind", "subject_kind"},
	FieldUSCC:       {"统一社会信用代码", "社会信用代码", "信用代码", "uscc", "credit_code"},
	FieldIDNumber:   {"身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码", "id_number", "citizen_id"},
	FieldName:       {"名称", "企业名称", "单位名称", "主体名称", "name", "subject_name"},
	FieldPersonName: {"姓名", "person_name"},
	FieldCategory:   {"失信类别", "失信类型", "名单类别", "类别", "category"},
	FieldMeasures:   {"惩戒措施", "联合惩戒措施", "措施", "measures"},
	FieldDocumentNo: {"文书号", "案号", "决定文书号", "文号", "document_no", "case_no"},
	FieldDecidedAt:  {"决定日期", "作出决定日期", "认定日期", "decided_at", "decision_date"},
	FieldStart:      {"起始日期", "开始日期", "列入日期", "start", "start_date"},
	FieldTerm:       {"期限", "惩戒期限", "失信期限", "term"},
	FieldLaw:        {"法律依据", "认定依据", "依据", "law", "legal_basis"},
	FieldPolicy:     {"政策", "退出政策", "policy"},
	FieldReportRef:  {"report_ref"},
}

// normalizeHeader folds the spellings of one column name together: a BOM,
// surrounding and inner white space (including the ideographic space), '_',
// '-', '.' and a trailing '*' (a "required" marker in templates) are
// dropped and ASCII letters lowered.
func normalizeHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\uFEFF' || unicode.IsSpace(r) || r == '_' || r == '-' || r == '.' || r == '*':
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
