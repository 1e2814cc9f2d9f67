package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/cmd/creditchain/importer"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// importRows is the size of the main import: 2,000 rows in `make test`;
// CREDITCHAIN_IMPORT_ROWS=100000 for the benchmark (docs/import-export.md,
// make import-100k). The GBK and .xlsx variants get variantRows.
func importRows(t *testing.T) int { return envRows(t, "CREDITCHAIN_IMPORT_ROWS", 100, 2000) }

// variantRows is the size of the GBK and .xlsx variants: a tenth of the
// main file, at least 150, so that a benchmark run measures them too
// without tripling its hour; CREDITCHAIN_IMPORT_VARIANT_ROWS sets it
// (make import-100k-all: all three at 100,000).
func variantRows(t *testing.T, rows int) int {
	return envRows(t, "CREDITCHAIN_IMPORT_VARIANT_ROWS", 150, max(150, rows/10))
}

// envRows is the number of rows in environment variable name, at least
// least, or def when it is unset.
func envRows(t *testing.T, name string, least, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want a number of rows ≥ %d", name, v, least)
	}
	return n
}

// loadAverage is the machine's 1-minute load average, for the logged
// rates: on a shared machine they mean little without it.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(raw))[0]
}

// logRate logs an import's end-to-end rate: rows committed at every
// replica per second from the start of the import to the moment the last
// replica held its last row.
func logRate(t *testing.T, what string, rows, replicas int, began time.Time) {
	t.Helper()
	elapsed := time.Since(began)
	t.Logf("import rate, %s: %d rows committed at all %d replicas in %s = %.0f rows/s (load average %s)",
		what, rows, replicas, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds(), loadAverage())
}

const importLaw = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条"

// TestImportExport imports a court's list of 2,000 rows (CREDITCHAIN_IMPORT_ROWS)
// with bad rows among them: nothing is sent while rows are bad; with --skip-invalid the import
// is stopped halfway and rerun with the same state file, and every valid
// row ends committed exactly once at every replica. A GBK CSV and an .xlsx
// workbook, each with bad rows, are imported by other recorders. Then each recorder's records
// are exported from a replica and re-imported into a fresh network, which
// ends with the same records.
func TestImportExport(t *testing.T) {
	rows := importRows(t)
	t.Logf("import test: %d rows in the main file, %d in each variant; load average %s", rows, variantRows(t, rows), loadAverage())
	dirA := t.TempDir()
	// Network A's clock (every service's) and the importer's can be moved
	// forward, to make rows journalled by an interrupted run older than
	// intake's ±5 min window.
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	a := startNetworkIn(t, dirA, clock)
	nfA := loadNetworkFile(t, dirA)
	work := t.TempDir()

	// 1. The court's list: UTF-8 CSV, bad rows at known lines.
	main := filepath.Join(work, "court.csv")
	valid, bad := writeCourtCSV(t, main, rows)
	cfg := importConfig(t, nfA, dirA, court, main)
	cfg.Now = clock

	sum, err := importer.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Invalid != len(bad) || sum.Valid != len(valid) || sum.Sent != 0 {
		t.Fatalf("with bad rows and no --skip-invalid: %+v", sum)
	}
	if _, err := os.Stat(cfg.StatePath); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote a state file (%v)", err)
	}
	checkReportNames(t, cfg.ReportPath, bad)
	if got := countRecords(t, a, a.Institutions[court].Member.ID); got != 0 {
		t.Fatalf("a refused import put %d records on the ledger", got)
	}

	// Stop the import halfway, as a kill would: the collector cancels the
	// run once half the valid rows are accepted by intake.
	cfg.SkipInvalid = true
	ctx, stop := context.WithCancel(context.Background())
	cfg.Observe = func(c importer.Counts) {
		if c.Sent >= len(valid)/2 {
			stop()
		}
	}
	began := time.Now()
	first, err := importer.Run(ctx, cfg)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if !first.Interrupted || first.Sent < len(valid)/2 || first.Sent >= len(valid) {
		t.Fatalf("interrupted run: %+v", first)
	}
	t.Logf("interrupted after %s: %d of %d valid rows accepted by intake, %d committed (journal: every row up to line %d done)",
		time.Since(began).Round(time.Millisecond), first.Sent, len(valid), first.Committed, first.Upto)
	// Make the crash worse: the answers to 20 rows that did reach intake
	// never made it to the disk. Those rows are now in doubt, like the
	// rows the interrupted run journalled but had not sent yet.
	forgotten := forgetAnswers(t, cfg.StatePath, 20)
	before := readJournal(t, cfg.StatePath)
	inDoubt := 0
	for _, l := range before {
		if l.intents > 0 && !l.answered {
			inDoubt++
		}
	}
	// Ten minutes later, every row in doubt is stale for intake: those that
	// arrived are found by their receipts, the others are signed afresh.
	offset.Store(int64(10 * time.Minute))
	cfg.Observe = nil
	second, err := importer.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Complete(true) || second.Earlier+second.Sent != len(valid) || second.Committed != len(valid) {
		t.Fatalf("rerun: %+v (first run sent %d)", second, first.Sent)
	}
	waitRecords(t, a, a.Institutions[court].Member.ID, len(valid), 5*time.Minute)
	logRate(t, "UTF-8 CSV, interrupted and rerun", len(valid), len(a.Institutions), began)
	checkExactlyOnce(t, a, a.Institutions[court].Member.ID, valid)
	checkReportNames(t, cfg.ReportPath, bad)
	after := readJournal(t, cfg.StatePath)
	resigned := 0
	for line, l := range after {
		if l.intents > 1 {
			resigned++
		}
		if slices.Contains(forgotten, line) && l.intents != 1 {
			t.Errorf("line %d reached intake before the crash but was signed again", line)
		}
	}
	t.Logf("after the interruption: %d rows in doubt (%d of them with forgotten answers), %d signed afresh", inDoubt, len(forgotten), resigned)
	if resigned == 0 || resigned > inDoubt-len(forgotten) {
		t.Errorf("%d rows signed afresh; want some, at most the %d in doubt that never reached intake", resigned, inDoubt-len(forgotten))
	}

	// A third run finds nothing to send.
	third, err := importer.Run(context.Background(), cfg)
	if err != nil || third.Sent != 0 || third.Earlier != len(valid) || !third.Complete(true) {
		t.Fatalf("third run: %+v, %v", third, err)
	}

	// 2. The market regulator's list in GBK, Chinese category names.
	gbk := filepath.Join(work, "market.csv")
	gbkValid, gbkBad := writeMarketGBK(t, gbk, variantRows(t, rows))
	mcfg := importConfig(t, nfA, dirA, market, gbk)
	mcfg.SkipInvalid, mcfg.Now = true, clock
	began = time.Now()
	msum, err := importer.Run(context.Background(), mcfg)
	if err != nil {
		t.Fatal(err)
	}
	if msum.Encoding != "gbk" || msum.Invalid != len(gbkBad) || !msum.Complete(true) || msum.Committed != len(gbkValid) {
		t.Fatalf("GBK import: %+v", msum)
	}
	checkReportNames(t, mcfg.ReportPath, gbkBad)
	waitRecords(t, a, a.Institutions[market].Member.ID, len(gbkValid), time.Minute)
	logRate(t, "GBK CSV", len(gbkValid), len(a.Institutions), began)
	checkExactlyOnce(t, a, a.Institutions[market].Member.ID, gbkValid)

	// 3. The tax bureau's workbook: Excel date cells, English headers.
	xlsx := filepath.Join(work, "tax.xlsx")
	xValid, xBad := writeTaxXLSX(t, xlsx, variantRows(t, rows))
	tcfg := importConfig(t, nfA, dirA, tax, xlsx)
	tcfg.SkipInvalid, tcfg.Now = true, clock
	began = time.Now()
	tsum, err := importer.Run(context.Background(), tcfg)
	if err != nil {
		t.Fatal(err)
	}
	if tsum.Encoding != "xlsx" || tsum.Invalid != len(xBad) || !tsum.Complete(true) || tsum.Committed != len(xValid) {
		t.Fatalf("xlsx import: %+v", tsum)
	}
	checkReportNames(t, tcfg.ReportPath, xBad)
	waitRecords(t, a, a.Institutions[tax].Member.ID, len(xValid), time.Minute)
	logRate(t, "xlsx", len(xValid), len(a.Institutions), began)
	checkExactlyOnce(t, a, a.Institutions[tax].Member.ID, xValid)

	// 4. Export each recorder's records from the bank's replica.
	bankDB := nfA.Institutions[bank].DatabaseURL
	masked := exportTo(t, importer.ExportConfig{DatabaseURL: bankDB, Format: "csv", Status: "all"}, filepath.Join(work, "masked.csv"))
	checkMasked(t, masked, len(valid)+len(gbkValid)+len(xValid))
	exports := map[int]string{}
	for _, who := range []int{court, market, tax} {
		exports[who] = exportTo(t, importer.ExportConfig{DatabaseURL: bankDB, Format: "csv", Status: "all", IncludePersonal: true,
			Authority: a.Institutions[who].Member.ID}, filepath.Join(work, fmt.Sprintf("export-%d.csv", who)))
	}
	jsonl := exportTo(t, importer.ExportConfig{DatabaseURL: bankDB, Format: "jsonl", Status: "listed"}, filepath.Join(work, "all.jsonl"))
	checkJSONL(t, jsonl, len(valid)+len(gbkValid)+len(xValid))

	// 5. Re-import into a fresh network: the same records.
	dirB := t.TempDir()
	b := startNetworkIn(t, dirB, nil)
	nfB := loadNetworkFile(t, dirB)
	for _, who := range []int{court, market, tax} {
		if nfA.Institutions[who].ID != nfB.Institutions[who].ID {
			t.Fatalf("dev institutions differ between networks: %s / %s", nfA.Institutions[who].ID, nfB.Institutions[who].ID)
		}
		id := a.Institutions[who].Member.ID
		began := time.Now()
		rcfg := importConfig(t, nfB, dirB, who, exports[who])
		rsum, err := importer.Run(context.Background(), rcfg)
		if err != nil {
			t.Fatal(err)
		}
		if !rsum.Complete(false) {
			t.Fatalf("re-import of %s: %+v", exports[who], rsum)
		}
		want := countRecords(t, a, id)
		waitRecords(t, b, id, want, 2*time.Minute)
		logRate(t, fmt.Sprintf("re-import of an export (%s), uninterrupted", filepath.Base(exports[who])), want, len(b.Institutions), began)
	}
	// Every replica of the fresh network holds each row once.
	checkExactlyOnce(t, b, b.Institutions[court].Member.ID, valid)
	checkExactlyOnce(t, b, b.Institutions[market].Member.ID, gbkValid)
	checkExactlyOnce(t, b, b.Institutions[tax].Member.ID, xValid)
	recA, recB := replicaRecords(t, a, bank), replicaRecords(t, b, bank)
	if len(recA) != len(recB) || len(recA) != len(valid)+len(gbkValid)+len(xValid) {
		t.Fatalf("network A holds %d records, B %d", len(recA), len(recB))
	}
	for k, ra := range recA {
		if rb, ok := recB[k]; !ok || !reflect.DeepEqual(ra, rb) {
			t.Errorf("record %s:\n A %+v\n B %+v", k, ra, rb)
		}
	}
}

// startNetworkIn is startNetwork with the data directory known, so that
// the test reads network.json and the key files as the CLI does.
func startNetworkIn(t *testing.T, dir string, clock func() time.Time) *devnet.Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := devnet.Start(ctx, devnet.Options{Env: harness.Shared(t), OwnNATS: true, Dir: dir, IntakePort: -1,
		BlockInterval: 50 * time.Millisecond, IdleInterval: 500 * time.Millisecond, Clock: clock})
	if err != nil {
		t.Fatalf("start network: %v", err)
	}
	t.Cleanup(n.Close)
	return n
}

func loadNetworkFile(t *testing.T, dir string) *importer.Network {
	t.Helper()
	nf, err := importer.LoadNetwork(filepath.Join(dir, "network.json"))
	if err != nil {
		t.Fatal(err)
	}
	return nf
}

func importConfig(t *testing.T, nf *importer.Network, dir string, who int, file string) importer.Config {
	t.Helper()
	key, err := suite.LoadKeyFile(filepath.Join(dir, "keys", nf.Institutions[who].ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return importer.Config{File: file, Network: nf, Key: key, Progress: testWriter{t}, Wait: time.Minute,
		StatePath: file + ".import-state", ReportPath: file + ".report.csv"}
}

// journalLine is what a state file says about one row.
type journalLine struct {
	intents  int
	answered bool
}

// readJournal reads a state file (docs/import-export.md) by line of the
// input.
func readJournal(t *testing.T, path string) map[int]*journalLine {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]*journalLine{}
	for i, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if i == 0 {
			continue // the header
		}
		var e struct {
			Line     int    `json:"line"`
			Tx       string `json:"tx"`
			Accepted bool   `json:"accepted"`
			Refused  string `json:"refused"`
			Final    string `json:"final"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("journal line %d: %v", i+1, err)
		}
		if e.Line == 0 {
			continue // an "upto"
		}
		if out[e.Line] == nil {
			out[e.Line] = &journalLine{}
		}
		switch {
		case e.Tx != "":
			out[e.Line].intents++
		case e.Accepted || e.Refused != "" || e.Final != "":
			out[e.Line].answered = true
		}
	}
	return out
}

// forgetAnswers drops every answer journalled for the first n answered
// rows, and the "upto" lines, as if the process had died before they were
// written; it returns those rows' lines.
func forgetAnswers(t *testing.T, path string, n int) []int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	var victims []int
	var kept strings.Builder
	for i, l := range lines {
		var e struct {
			Line int    `json:"line"`
			Tx   string `json:"tx"`
			Upto int    `json:"upto"`
		}
		if i > 0 && l != "" {
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			if e.Upto > 0 {
				continue
			}
			if e.Line > 0 && e.Tx == "" && (len(victims) < n || slices.Contains(victims, e.Line)) {
				if !slices.Contains(victims, e.Line) {
					victims = append(victims, e.Line)
				}
				continue
			}
		}
		kept.WriteString(l)
	}
	if len(victims) < n {
		t.Fatalf("only %d answered rows in the journal", len(victims))
	}
	if err := os.WriteFile(path, []byte(kept.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return victims
}

// testWriter sends the import's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rowKey identifies a row on the ledger: its subject's code (a person's
// ID number) and its case number.
type rowKey struct{ code, documentNo string }

// writeCourtCSV writes the court's list: every tenth subject a person,
// dates in every written form, and a bad row every 97 lines, each with a
// different fault. It returns the valid rows and the bad lines.
func writeCourtCSV(t *testing.T, path string, n int) (valid []rowKey, bad []int) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"序号", "统一社会信用代码", "身份证号", "名称", "失信类别", "惩戒措施", "案号", "决定日期", "起始日期", "期限", "法律依据"})
	dateForms := []func(time.Time) string{
		func(d time.Time) string { return d.Format("2006-01-02") },
		func(d time.Time) string { return d.Format("2006/1/2") },
		func(d time.Time) string { return d.Format("2006年1月2日") },
		func(d time.Time) string { return d.Format("20060102") },
	}
	terms := []string{"P2Y", "2年", "3年", "无期限", "1年6个月"}
	faults := []func(r []string){
		func(r []string) { // a wrong check character
			if r[1] != "" {
				r[1] = r[1][:17] + nextCheckChar(r[1][17])
			} else {
				r[2] = r[2][:17] + string("10X98765432"[(strings.IndexByte("10X98765432", r[2][17])+1)%11])
			}
		},
		func(r []string) { r[7] = "2026-02-30" },
		func(r []string) { r[4] = "黑名单" },
		func(r []string) { r[9] = "" },
		func(r []string) { r[4] = "严重失信" }, // not the court's category
		func(r []string) { r[10] = "" },
		func(r []string) { r[1], r[2] = "", "" },
	}
	// Decisions of the last 300 days, so that no record's term has run out
	// and the exit-contract leaves them all listed.
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	line := 1
	for i := 0; i < n; i++ {
		line++
		decided := today.AddDate(0, 0, -2-i%300)
		code := orgCode(t, i)
		r := []string{strconv.Itoa(i + 1), code, "", fmt.Sprintf("厦门第%d贸易有限公司", i), "失信被执行人",
			"限制高消费；限制乘坐飞机、限制子女就读高收费学校", fmt.Sprintf("(2026)闽02执%d号", i),
			dateForms[i%4](decided), "", terms[i%len(terms)], importLaw}
		if i%10 == 3 {
			code = citizenID(t, i)
			r[1], r[2], r[3] = "", code, "张"+strings.Repeat("三", 1+i%2)
		}
		if i%4 == 1 {
			r[8] = dateForms[(i+1)%4](decided.AddDate(0, 0, 1))
		}
		if i%97 == 50 {
			faults[(i/97)%len(faults)](r)
			bad = append(bad, line)
		} else {
			valid = append(valid, rowKey{code, r[6]})
		}
		_ = w.Write(r)
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return valid, bad
}

func nextCheckChar(c byte) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	return string(alphabet[(strings.IndexByte(alphabet, c)+1)%len(alphabet)])
}

// writeMarketGBK writes the market regulator's list in GBK, as Excel on a
// Chinese Windows saves CSV; lines 5 and 9 are bad, and in a larger file
// one line in a thousand. It returns the valid rows and the bad lines.
func writeMarketGBK(t *testing.T, path string, n int) (valid []rowKey, bad []int) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"统一社会信用代码", "企业名称", "失信类别", "惩戒措施", "决定文书号", "认定日期", "惩戒期限", "法律依据"})
	cats := []string{"严重失信主体名单", "一般失信", "轻微失信"}
	terms := []string{"3年", "1年", "3个月"}
	for i := 0; i < n; i++ {
		code := orgCode(t, 500_000+i)
		doc := fmt.Sprintf("厦市监处〔2026〕%d号", i)
		decided := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1-i%40).Format("2006年1月2日")
		r := []string{code, fmt.Sprintf("厦门某某食品第%d厂", i), cats[i%3], "限制参与政府采购；限制取得政府补贴", doc, decided, terms[i%3],
			"《市场监督管理严重违法失信名单管理办法》第二条"}
		switch {
		case i+2 == 5, i%2000 == 1500:
			r[2] = "失信被执行人" // the court's category, not the market regulator's
			bad = append(bad, i+2)
		case i+2 == 9, i%2000 == 500:
			r[5] = "上个月"
			bad = append(bad, i+2)
		default:
			valid = append(valid, rowKey{code, doc})
		}
		_ = w.Write(r)
	}
	w.Flush()
	enc, err := simplifiedchinese.GBK.NewEncoder().Bytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	return valid, bad
}

// writeTaxXLSX writes the tax bureau's workbook with English headers, the
// decision dates as Excel date cells and the start dates as text; one row
// in 97 is bad. It returns the valid rows and the bad sheet rows.
func writeTaxXLSX(t *testing.T, path string, n int) (valid []rowKey, bad []int) {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow(sheet, "A1", &[]any{"USCC", "Name", "Category", "Measures", "Document No", "Decided At", "Start", "Term", "Law", "Policy"}))
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(err)
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		code := orgCode(t, 700_000+i)
		doc := fmt.Sprintf("厦税稽罚〔2026〕%d号", i)
		decided := time.Now().UTC().AddDate(0, 0, -2-i%30).Truncate(24 * time.Hour)
		serial := int(decided.Sub(epoch).Hours() / 24)
		cat := []string{"serious-dishonesty", "general-dishonesty"}[i%2]
		row := fmt.Sprintf("A%d", i+2)
		cells := []any{code, fmt.Sprintf("厦门某某税务代理第%d所", i), cat, "tax_credit_downgrade",
			doc, serial, decided.AddDate(0, 0, 1).Format("2006/1/2"), []string{"P3Y", "1年"}[i%2],
			"《重大税收违法失信主体信息公布管理办法》第六条", cat}
		if i%97 == 40 {
			switch (i / 97) % 3 {
			case 0:
				cells[0] = code[:17] + nextCheckChar(code[17])
			case 1:
				cells[8] = "" // no law
			case 2:
				cells[5] = serial + 400 // a decision in the future
			}
			bad = append(bad, i+2)
		} else {
			valid = append(valid, rowKey{code, doc})
		}
		must(f.SetSheetRow(sheet, row, &cells))
		cell := fmt.Sprintf("F%d", i+2)
		must(f.SetCellStyle(sheet, cell, cell, style))
	}
	must(f.SaveAs(path))
	return valid, bad
}

// checkReportNames reads the bad-row report and checks that it names each
// bad line, and only those, at the validation stage.
func checkReportNames(t *testing.T, path string, bad []int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], importer.ReportHeader) {
		t.Fatalf("report header %q", recs)
	}
	var lines []int
	for _, r := range recs[1:] {
		l, _ := strconv.Atoi(r[0])
		if r[1] != importer.StageValidate || r[4] == "" {
			t.Errorf("report row %q", r)
		}
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	if !slices.Equal(lines, bad) {
		t.Errorf("report names lines %v, want %v", lines, bad)
	}
}

func countRecords(t *testing.T, n *devnet.Network, authority string) int {
	t.Helper()
	var c int
	err := n.Replicator(n.Institutions[bank].Member.ID).Store().Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM records WHERE authority = $1`, authority).Scan(&c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitRecords waits until every replica holds want records of authority.
func waitRecords(t *testing.T, n *devnet.Network, authority string, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, in := range n.Institutions {
		pool := n.Replicator(in.Member.ID).Store().Pool
		for {
			var c int
			if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE authority = $1`, authority).Scan(&c); err != nil {
				t.Fatal(err)
			}
			if c == want {
				break
			}
			if c > want || time.Now().After(deadline) {
				t.Fatalf("replica %s holds %d records of %s, want %d", in.Member.ID, c, authority, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkExactlyOnce checks at every replica that each valid row is one
// record, and that there are no others: a row sent twice would be two
// records with the same subject and case number.
func checkExactlyOnce(t *testing.T, n *devnet.Network, authority string, valid []rowKey) {
	t.Helper()
	want := make([]string, len(valid))
	for i, k := range valid {
		want[i] = k.code + "|" + k.documentNo
	}
	sort.Strings(want)
	for _, in := range n.Institutions {
		rows, err := n.Replicator(in.Member.ID).Store().Pool.Query(context.Background(),
			`SELECT coalesce(p.id_number, r.subject_code) || '|' || r.document_no
			 FROM records r LEFT JOIN personal p ON r.subject_kind = 'person' AND p.commitment = r.subject_code
			 WHERE r.authority = $1 ORDER BY 1`, authority)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		rows.Close()
		sort.Strings(got)
		if !slices.Equal(got, want) {
			extra, missing := diff(got, want), diff(want, got)
			t.Errorf("replica %s: %d records for %d valid rows; not in the file or repeated: %.5q; missing: %.5q",
				in.Member.ID, len(got), len(want), extra, missing)
		}
	}
}

// diff returns the elements of a (with repeats) not matched in b.
func diff(a, b []string) []string {
	left := map[string]int{}
	for _, s := range b {
		left[s]++
	}
	var out []string
	for _, s := range a {
		if left[s] > 0 {
			left[s]--
		} else {
			out = append(out, s)
		}
	}
	return out
}

func exportTo(t *testing.T, cfg importer.ExportConfig, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Export(context.Background(), cfg, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkMasked reads a masked export: no person's ID number or name in
// clear.
func checkMasked(t *testing.T, path string, want int) {
	t.Helper()
	raw, _ := os.ReadFile(path)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != want {
		t.Errorf("masked export has %d records, want %d", len(recs)-1, want)
	}
	persons := 0
	for _, r := range recs[1:] {
		if r[0] != "person" {
			continue
		}
		persons++
		if !strings.Contains(r[2], "********") || len(r[2]) != 18 || !strings.HasSuffix(r[3], "*") {
			t.Errorf("person not masked in the export: %q", r[:4])
		}
	}
	if persons == 0 {
		t.Error("the masked export holds no person")
	}
}

func checkJSONL(t *testing.T, path string, want int) {
	t.Helper()
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != want {
		t.Errorf("jsonl export has %d lines, want %d", len(lines), want)
	}
	for _, l := range lines[:min(len(lines), 50)] {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil || v["record_id"] == nil || v["status"] != "active" {
			t.Errorf("jsonl line %s (%v)", l, err)
		}
	}
}

// sameRecord is what must survive an export and re-import: everything but
// ids, commitments (a fresh salt) and block times.
type sameRecord struct {
	Name, Category, DocumentNo, DecidedAt, Law, Start, Term, Policy string
	Measures                                                        []string
}

// replicaRecords reads institution who's replica: records keyed by
// authority, subject code (a person's ID number) and case number.
func replicaRecords(t *testing.T, n *devnet.Network, who int) map[string]sameRecord {
	t.Helper()
	rows, err := n.Replicator(n.Institutions[who].Member.ID).Store().Pool.Query(context.Background(),
		`SELECT r.doc, coalesce(p.id_number, ''), coalesce(p.name, '') FROM records r
		 LEFT JOIN personal p ON r.subject_kind = 'person' AND p.commitment = r.subject_code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]sameRecord{}
	for rows.Next() {
		var doc []byte
		var idn, name string
		if err := rows.Scan(&doc, &idn, &name); err != nil {
			t.Fatal(err)
		}
		var r ledger.Record
		if err := json.Unmarshal(doc, &r); err != nil {
			t.Fatal(err)
		}
		code := r.Subject.USCC
		if r.Subject.Kind == "person" {
			code = idn
		} else {
			name = r.Subject.Name
		}
		out[r.Authority+"|"+r.Subject.Kind+"|"+code+"|"+r.Basis.DocumentNo] = sameRecord{Name: name, Category: r.Category,
			DocumentNo: r.Basis.DocumentNo, DecidedAt: r.Basis.DecidedAt, Law: r.Basis.Law,
			Start: r.Start.UTC().Format(time.RFC3339Nano), Term: r.Term, Policy: r.Policy.ID, Measures: r.Measures}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
