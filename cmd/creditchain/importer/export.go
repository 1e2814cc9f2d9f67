package importer

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// ExportConfig is one `creditchain export`.
type ExportConfig struct {
	DatabaseURL string
	Format      string // csv or jsonl
	// Status is "listed" (active records only, the default) or "all".
	Status string
	// IncludePersonal writes persons' names and ID numbers in full from
	// the replica's sidecars; otherwise they are masked as everywhere else.
	IncludePersonal bool
	// Authority, if set, keeps only the records this institution created:
	// an export that one recorder's key can re-import.
	Authority string
}

// ExportColumns are the CSV export's columns. The import's field names
// come first so that an export re-imports with the default mapping; the
// ledger's own columns after them are ignored by an import.
var ExportColumns = []string{
	string(FieldKind), string(FieldUSCC), string(FieldIDNumber), string(FieldName), string(FieldCategory),
	string(FieldMeasures), string(FieldDocumentNo), string(FieldDecidedAt), string(FieldStart),
	string(FieldTerm), string(FieldLaw), string(FieldPolicy),
	"record_id", "status", "authority", "policy_version", "listed_at", "exited_at", "exit_reason",
}

// indefiniteExport is how an export writes a record without term, which an
// import reads back as no term.
const indefiniteExport = "无期限"

// exportQuery reads records in ledger order (height, then position in the
// block) with their sidecars, if not purged.
const exportQuery = `SELECT r.doc, p.name, p.id_number
FROM records r
JOIN txs t ON t.tx_id = r.record_id
LEFT JOIN personal p ON r.subject_kind = 'person' AND p.commitment = r.subject_code
WHERE ($1 OR r.status = 'active') AND ($2 = '' OR r.authority = $2)
ORDER BY t.height, t.position`

// Export writes the records of the replica at cfg.DatabaseURL to w and
// returns how many it wrote.
func Export(ctx context.Context, cfg ExportConfig, w io.Writer) (int, error) {
	switch cfg.Status {
	case "", "listed", "all":
	default:
		return 0, fmt.Errorf("export: status %q: want listed or all", cfg.Status)
	}
	var out recordWriter
	switch cfg.Format {
	case "", "csv":
		cw := csv.NewWriter(w)
		// A BOM so that Excel shows the Chinese; the import skips it.
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		if err := cw.Write(ExportColumns); err != nil {
			return 0, fmt.Errorf("export: %w", err)
		}
		out = &csvRecords{w: cw, include: cfg.IncludePersonal}
	case "jsonl":
		out = &jsonRecords{enc: json.NewEncoder(w), include: cfg.IncludePersonal}
	default:
		return 0, fmt.Errorf("export: format %q: want csv or jsonl", cfg.Format)
	}
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return 0, fmt.Errorf("export: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, exportQuery, cfg.Status == "all", cfg.Authority)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var doc []byte
		var name, idNumber *string
		if err := rows.Scan(&doc, &name, &idNumber); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
		var r ledger.Record
		if err := json.Unmarshal(doc, &r); err != nil {
			return n, fmt.Errorf("export: record document: %w", err)
		}
		var p *txn.Personal
		if name != nil && idNumber != nil {
			p = &txn.Personal{Name: *name, IDNumber: *idNumber}
		}
		if err := out.write(&r, p); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, out.flush()
}

type recordWriter interface {
	write(r *ledger.Record, p *txn.Personal) error
	flush() error
}

// personFields returns what a person's row shows: masked unless include.
// A purged sidecar leaves both empty.
func personFields(p *txn.Personal, include bool) (code, name string) {
	if p == nil {
		return "", ""
	}
	if include {
		return p.IDNumber, p.Name
	}
	return ids.MaskID(p.IDNumber), ids.MaskName(p.Name)
}

type csvRecords struct {
	w       *csv.Writer
	include bool
}

// ExportRow is a record as one CSV row in ExportColumns order.
func ExportRow(r *ledger.Record, p *txn.Personal, includePersonal bool) []string {
	kind, uscc, idn, name := r.Subject.Kind, r.Subject.USCC, "", r.Subject.Name
	if kind == txn.SubjectPerson {
		idn, name = personFields(p, includePersonal)
	}
	decided := r.Basis.DecidedAt
	if t, err := txn.ParseTime(decided); err == nil {
		decided = FormatDate(t)
	}
	term := r.Term
	if term == "" {
		term = indefiniteExport
	}
	listed, exited, exitReason := "", "", ""
	if len(r.History) > 0 {
		listed = r.History[0].Time.UTC().Format(time.RFC3339Nano)
	}
	if r.Exit != nil {
		exited, exitReason = r.Exit.Time.UTC().Format(time.RFC3339Nano), r.Exit.Reason
	}
	return []string{
		kind, uscc, idn, name, r.Category, strings.Join(r.Measures, ";"), r.Basis.DocumentNo, decided,
		FormatDate(r.Start), term, r.Basis.Law, r.Policy.ID,
		r.ID, r.Status, r.Authority, strconv.Itoa(r.Policy.Version), listed, exited, exitReason,
	}
}

func (c *csvRecords) write(r *ledger.Record, p *txn.Personal) error {
	return c.w.Write(ExportRow(r, p, c.include))
}

func (c *csvRecords) flush() error {
	c.w.Flush()
	return c.w.Error()
}

type jsonRecords struct {
	enc     *json.Encoder
	include bool
}

// exportSubject is a subject in a JSON line: an organization as on the
// ledger; a person as documents show one (code and name, masked unless
// --include-personal) with its commitment.
type exportSubject struct {
	Kind       string `json:"kind"`
	USCC       string `json:"uscc,omitempty"`
	Code       string `json:"code,omitempty"`
	Name       string `json:"name,omitempty"`
	Commitment string `json:"commitment,omitempty"`
}

// exportRecord is one JSON line.
type exportRecord struct {
	RecordID  string           `json:"record_id"`
	Status    string           `json:"status"`
	Authority string           `json:"authority"`
	Subject   exportSubject    `json:"subject"`
	Category  string           `json:"category"`
	Measures  []string         `json:"measures"`
	Basis     txn.Basis        `json:"basis"`
	Start     string           `json:"start"`
	Term      string           `json:"term,omitempty"`
	Policy    ledger.PolicyRef `json:"policy"`
	ReportRef string           `json:"report_ref,omitempty"`
	ListedAt  string           `json:"listed_at,omitempty"`
	Exit      *ledger.Exit     `json:"exit,omitempty"`
	Revoked   *ledger.Exit     `json:"revoked,omitempty"`
}

func (j *jsonRecords) write(r *ledger.Record, p *txn.Personal) error {
	subj := exportSubject{Kind: r.Subject.Kind, USCC: r.Subject.USCC, Name: r.Subject.Name}
	if r.Subject.Kind == txn.SubjectPerson {
		subj = exportSubject{Kind: r.Subject.Kind, Commitment: r.Subject.Commitment}
		subj.Code, subj.Name = personFields(p, j.include)
	}
	e := exportRecord{RecordID: r.ID, Status: r.Status, Authority: r.Authority, Subject: subj,
		Category: r.Category, Measures: r.Measures, Basis: r.Basis, Start: txn.FormatTime(r.Start),
		Term: r.Term, Policy: r.Policy, ReportRef: r.ReportRef, Exit: r.Exit, Revoked: r.Revoked}
	if len(r.History) > 0 {
		e.ListedAt = txn.FormatTime(r.History[0].Time)
	}
	return j.enc.Encode(e)
}

func (j *jsonRecords) flush() error { return nil }
