package importer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Item is a valid row turned into a record.create.
type Item struct {
	Line    int
	Payload txn.RecordCreate
	// Person is a person's sidecar without its salt: the salt is drawn when
	// the row is signed (or read back from the state file on a rerun), and
	// with it the commitment that goes into Payload.
	Person *txn.Personal
}

// Problem is one reason a row cannot be imported.
type Problem struct {
	Line   int
	Stage  string // StageValidate, StageIntake or StageConsensus
	Column string // the header's name of the column, if one is at fault
	Value  string // the cell; ID numbers and names of persons masked
	Reason string
}

// Problem stages: found before submitting, refused by intake, rejected by
// consensus.
const (
	StageValidate  = "validate"
	StageIntake    = "intake"
	StageConsensus = "consensus"
)

// Parser turns rows into record.create payloads and checks them.
type Parser struct {
	Cols     *Columns
	Date1904 bool
	Now      time.Time
	// Institution and Categories are the recorder whose key signs: a row
	// outside its categories would be refused by intake (403).
	Institution string
	Categories  []string
	Suite       suite.Suite
	Chain       string
}

// requiredFields need a column or a default; a file without one of them is
// refused as a whole rather than row by row.
var requiredFields = []Field{FieldCategory, FieldDocumentNo, FieldDecidedAt, FieldTerm, FieldLaw}

// CheckHeader reports the fields no column or default supplies.
func (p *Parser) CheckHeader() error {
	var missing []string
	for _, f := range requiredFields {
		if !p.Cols.Has(f) {
			missing = append(missing, fmt.Sprintf("%s (%s)", f, strings.Join(DefaultAliases[f], ", ")))
		}
	}
	if !p.Cols.Has(FieldUSCC) && !p.Cols.Has(FieldIDNumber) {
		missing = append(missing, "uscc or id_number (统一社会信用代码 or 身份证号)")
	}
	if !p.Cols.Has(FieldName) && !p.Cols.Has(FieldPersonName) {
		missing = append(missing, "name (名称 or 姓名)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("no column (and no default in a mapping file) for: %s", strings.Join(missing, "; "))
	}
	return nil
}

// Parse checks every row. Rows with no problem become items; the others
// give one problem per fault found, so that a report names them all at once.
func (p *Parser) Parse(rows []Row) ([]*Item, []Problem) {
	var items []*Item
	var problems []Problem
	seen := map[string]int{} // subject + case number → first line
	for _, r := range rows {
		it, probs := p.parseRow(r)
		if len(probs) == 0 {
			key := it.Payload.Subject.Kind + "\x00" + it.Payload.Subject.USCC + "\x00" + it.Payload.Basis.DocumentNo
			if it.Person != nil {
				key = txn.SubjectPerson + "\x00" + it.Person.IDNumber + "\x00" + it.Payload.Basis.DocumentNo
			}
			if first, dup := seen[key]; dup {
				_, col := p.Cols.cell(r.Cells, FieldDocumentNo)
				probs = append(probs, Problem{Line: r.Line, Stage: StageValidate, Column: col, Value: it.Payload.Basis.DocumentNo,
					Reason: fmt.Sprintf("duplicate of line %d: same subject and document_no", first)})
			} else {
				seen[key] = r.Line
			}
		}
		if len(probs) > 0 {
			problems = append(problems, probs...)
			continue
		}
		items = append(items, it)
	}
	return items, problems
}

// rowCheck collects the problems of one row.
type rowCheck struct {
	p     *Parser
	row   Row
	probs []Problem
}

func (c *rowCheck) get(f Field) (string, string) { return c.p.Cols.cell(c.row.Cells, f) }

func (c *rowCheck) bad(column, value, format string, args ...any) {
	c.probs = append(c.probs, Problem{Line: c.row.Line, Stage: StageValidate, Column: column, Value: value,
		Reason: fmt.Sprintf(format, args...)})
}

func (p *Parser) parseRow(r Row) (*Item, []Problem) {
	c := &rowCheck{p: p, row: r}
	it := &Item{Line: r.Line}
	pl := &it.Payload
	c.subject(it)

	if v, col := c.get(FieldCategory); v == "" {
		c.bad(col, v, "category empty")
	} else if cat, err := ParseCategory(v); err != nil {
		c.bad(col, v, "category: %v", err)
	} else if p.Categories != nil && !slices.Contains(p.Categories, cat) {
		c.bad(col, v, "category %s: institution %s may record only %s", cat, p.Institution, strings.Join(p.Categories, ", "))
	} else {
		pl.Category = cat
	}
	if v, _ := c.get(FieldMeasures); v != "" {
		pl.Measures = splitMeasures(v)
	}
	if pl.Measures == nil {
		pl.Measures = []string{}
	}
	if v, col := c.get(FieldDocumentNo); v == "" {
		c.bad(col, v, "document_no empty")
	} else {
		pl.Basis.DocumentNo = v
	}
	decided := c.date(FieldDecidedAt)
	if !decided.IsZero() {
		pl.Basis.DecidedAt = txn.FormatTime(decided)
		if decided.After(endOfTodayInChina(p.Now)) {
			v, col := c.get(FieldDecidedAt)
			c.bad(col, v, "decided_at is in the future")
		}
	}
	if v, _ := c.get(FieldStart); v == "" {
		// Lists that give one date mean the decision's: the listing starts
		// when it is decided.
		pl.Start = pl.Basis.DecidedAt
	} else if start := c.date(FieldStart); !start.IsZero() {
		pl.Start = txn.FormatTime(start)
	}
	termV, termCol := c.get(FieldTerm)
	if term, err := ParseTerm(termV); err != nil {
		c.bad(termCol, termV, "term: %v", err)
	} else {
		pl.Term = term
	}
	if v, col := c.get(FieldLaw); v == "" {
		c.bad(col, v, "law empty")
	} else {
		pl.Basis.Law = v
	}
	pl.Policy = pl.Category
	if v, _ := c.get(FieldPolicy); v != "" {
		pl.Policy = v
	}
	if v, _ := c.get(FieldReportRef); v != "" {
		pl.ReportRef = strings.ToLower(v) // checked as a tx id by contract below
	}
	if len(c.probs) == 0 {
		c.contract(it)
	}
	return it, c.probs
}

// date parses a date field; the zero time means a problem was recorded.
func (c *rowCheck) date(f Field) time.Time {
	v, col := c.get(f)
	t, err := ParseDate(v, c.p.Date1904)
	if err != nil {
		c.bad(col, v, "%s: %v", f, err)
		return time.Time{}
	}
	return t
}

// subject decides organization or person and checks the identifier:
// an explicit kind column wins; otherwise whichever of uscc and id_number
// is filled in.
func (c *rowCheck) subject(it *Item) {
	uscc, usccCol := c.get(FieldUSCC)
	idn, idCol := c.get(FieldIDNumber)
	kindV, kindCol := c.get(FieldKind)
	uscc, idn = strings.ToUpper(strings.ReplaceAll(uscc, " ", "")), strings.ToUpper(strings.ReplaceAll(idn, " ", ""))
	kind := ""
	switch strings.ToLower(kindV) {
	case "":
		switch {
		case uscc != "" && idn != "":
			c.bad(usccCol, uscc, "both uscc and id_number given; add a kind column (organization or person)")
			return
		case uscc != "":
			kind = txn.SubjectOrganization
		case idn != "":
			kind = txn.SubjectPerson
		default:
			c.bad(usccCol, "", "no identifier: uscc (统一社会信用代码) or id_number (身份证号) required")
			return
		}
	case "organization", "企业", "法人", "单位", "组织", "机构", "法人和其他组织", "法人及其他组织":
		kind = txn.SubjectOrganization
	case "person", "自然人", "个人":
		kind = txn.SubjectPerson
	default:
		c.bad(kindCol, kindV, "kind: %q is not organization (法人) or person (自然人)", kindV)
		return
	}
	if kind == txn.SubjectOrganization {
		name, nameCol := c.get(FieldName)
		if err := ids.CheckUSCC(uscc); err != nil {
			c.bad(usccCol, uscc, "uscc: %v", err)
		}
		if name == "" {
			c.bad(nameCol, "", "name empty")
		}
		it.Payload.Subject = txn.Subject{Kind: kind, USCC: uscc, Name: name}
		return
	}
	name, nameCol := c.get(FieldPersonName)
	if name == "" {
		name, nameCol = c.get(FieldName)
	}
	switch {
	case strings.Contains(idn, "*"):
		c.bad(idCol, ids.MaskID(idn), "id_number is masked: an export made without --include-personal cannot be re-imported for persons")
	default:
		if err := ids.CheckCitizenID(idn, c.p.Now); err != nil {
			c.bad(idCol, ids.MaskID(idn), "id_number: %v", err)
		}
	}
	switch {
	case name == "":
		c.bad(nameCol, "", "name of the person empty")
	case strings.Contains(name, "*"):
		c.bad(nameCol, name, "name is masked: an export made without --include-personal cannot be re-imported for persons")
	}
	it.Payload.Subject = txn.Subject{Kind: kind}
	it.Person = &txn.Personal{Name: name, IDNumber: idn}
}

// contract runs the transaction's own stateless checks (the ones intake
// makes) on the finished payload, so that a row that passed here is not
// refused for a rule this file forgot.
func (c *rowCheck) contract(it *Item) {
	p := c.p
	pl := it.Payload
	var personal *txn.Personal
	if it.Person != nil {
		personal = &txn.Personal{Name: it.Person.Name, IDNumber: it.Person.IDNumber, Salt: strings.Repeat("0", 64)}
		commit, err := txn.Commitment(p.Suite, personal)
		if err != nil {
			c.bad("", "", "personal: %v", err)
			return
		}
		pl.Subject.Commitment = commit
	}
	raw, err := json.Marshal(&pl)
	if err != nil {
		c.bad("", "", "payload: %v", err)
		return
	}
	env := &txn.Envelope{Chain: p.Chain, Type: txn.TypeRecordCreate, Submitter: p.Institution,
		Nonce: strings.Repeat("0", 32), CreatedAt: txn.FormatTime(p.Now), Payload: raw}
	if aerr := txn.ValidateWith(p.Suite, env, &pl, personal, p.Now); aerr != nil {
		c.bad("", "", "%s: %s", aerr.Code, aerr.Message)
	}
}
