package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Table is a file read into rows: the header and the data rows with the
// line each starts on (CSV: the physical line, so a quoted cell holding a
// line break does not shift later numbers; .xlsx: the sheet's row number).
type Table struct {
	Header []string
	Rows   []Row
	// SHA256 is the hash of the file's bytes as stored: the state file is
	// bound to it and row nonces derive from it.
	SHA256 string
	// Encoding is how a CSV was decoded (utf-8 or gbk); "xlsx" for workbooks.
	Encoding string
	// Date1904 is a workbook's date system: serial 0 is 1904-01-01.
	Date1904 bool
}

// Row is one data row.
type Row struct {
	Line  int
	Cells []string
}

// Encodings accepted by --encoding.
const (
	EncodingAuto = "auto"
	EncodingUTF8 = "utf-8"
	EncodingGBK  = "gbk"
)

// ReadTable reads a .csv or .xlsx file. encoding applies to CSV: auto takes
// valid UTF-8 (with or without a BOM) as UTF-8 and anything else as GBK;
// sheet applies to workbooks (empty: the first sheet).
func ReadTable(path, encoding, sheet string) (*Table, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	sum := sha256.Sum256(raw)
	var t *Table
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		t, err = readXLSX(raw, sheet)
	case ".csv", ".txt", ".tsv":
		t, err = readCSV(raw, encoding)
	default:
		return nil, fmt.Errorf("%s: want a .csv or .xlsx file (a legacy .xls must be saved as .xlsx first)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.SHA256 = hex.EncodeToString(sum[:])
	return t, nil
}

// decodeText returns raw as UTF-8 text and the encoding it was in. GBK is
// decoded with the GB18030 decoder, GBK's superset, so that the rare
// characters outside GBK that newer Windows versions write come through.
func decodeText(raw []byte, encoding string) (string, string, error) {
	bom := []byte("\xEF\xBB\xBF")
	switch strings.ToLower(encoding) {
	case "", EncodingAuto:
		if utf8.Valid(raw) {
			return string(bytes.TrimPrefix(raw, bom)), EncodingUTF8, nil
		}
		s, err := decodeGBK(raw)
		if err != nil {
			return "", "", fmt.Errorf("neither UTF-8 nor GBK (%v); convert the file to UTF-8", err)
		}
		return s, EncodingGBK, nil
	case EncodingUTF8, "utf8":
		if !utf8.Valid(raw) {
			return "", "", errors.New("not valid UTF-8 (try --encoding gbk)")
		}
		return string(bytes.TrimPrefix(raw, bom)), EncodingUTF8, nil
	case EncodingGBK, "gb18030", "gb2312":
		s, err := decodeGBK(raw)
		if err != nil {
			return "", "", err
		}
		return s, EncodingGBK, nil
	}
	return "", "", fmt.Errorf("unknown encoding %q (auto, utf-8 or gbk)", encoding)
}

func decodeGBK(raw []byte) (string, error) {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
	if err != nil {
		return "", fmt.Errorf("not GBK: %w", err)
	}
	// The decoder replaces undecodable bytes instead of failing.
	if i := bytes.IndexRune(out, utf8.RuneError); i >= 0 {
		return "", fmt.Errorf("not GBK: undecodable bytes near byte %d of the decoded text", i)
	}
	return string(out), nil
}

func readCSV(raw []byte, encoding string) (*Table, error) {
	text, enc, err := decodeText(raw, encoding)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1 // short rows are reported per row, not fatal
	r.LazyQuotes = true
	if first, _, _ := strings.Cut(text, "\n"); strings.Count(first, "\t") > strings.Count(first, ",") {
		r.Comma = '\t'
	}
	t := &Table{Encoding: enc}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		line, _ := r.FieldPos(0)
		if t.Header == nil {
			t.Header = rec
			continue
		}
		if blank(rec) {
			continue
		}
		t.Rows = append(t.Rows, Row{Line: line, Cells: rec})
	}
	if t.Header == nil {
		return nil, errors.New("empty file: no header row")
	}
	return t, nil
}

// readXLSX reads a sheet with raw cell values: a date cell gives its serial
// number, not a rendering that depends on the cell's number format.
func readXLSX(raw []byte, sheet string) (*Table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	defer f.Close()
	if sheet == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			return nil, errors.New("xlsx: no sheet")
		}
		sheet = list[0]
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheet, err)
	}
	t := &Table{Encoding: "xlsx"}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		t.Date1904 = *props.Date1904
	}
	for i, rec := range rows {
		if t.Header == nil {
			if blank(rec) {
				continue // leading empty rows above the header
			}
			t.Header = rec
			continue
		}
		if blank(rec) {
			continue
		}
		t.Rows = append(t.Rows, Row{Line: i + 1, Cells: rec})
	}
	if t.Header == nil {
		return nil, fmt.Errorf("xlsx sheet %q: empty, no header row", sheet)
	}
	return t, nil
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimFunc(c, isSpace) != "" {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }
