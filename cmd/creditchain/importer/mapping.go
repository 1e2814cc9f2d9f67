package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Mapping is the --mapping file: column names for fields whose columns the
// default aliases do not know, values for fields the file has no column for
// (or leaves empty), and the sheet of a workbook.
//
//	{"columns": {"document_no": "处罚决定书文号", "uscc": ["纳税人识别号", "税号"]},
//	 "defaults": {"law": "《…》第…条", "category": "general-dishonesty"},
//	 "sheet": "名单"}
type Mapping struct {
	Columns  map[Field]Names  `json:"columns,omitempty"`
	Defaults map[Field]string `json:"defaults,omitempty"`
	Sheet    string           `json:"sheet,omitempty"`
}

// Names is one column name or a list of alternatives.
type Names []string

// UnmarshalJSON accepts "name" as well as ["name", ...].
func (n *Names) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*n = Names{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a column name or a list of names")
	}
	*n = many
	return nil
}

// LoadMapping reads and checks a mapping file; unknown members and fields
// are errors, because a misspelt field would otherwise be ignored silently.
func LoadMapping(path string) (*Mapping, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	for f, names := range m.Columns {
		if !slices.Contains(Fields, f) {
			return nil, fmt.Errorf("mapping %s: unknown field %q in columns (fields: %s)", path, f, fieldList())
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("mapping %s: columns.%s names no column", path, f)
		}
	}
	for f := range m.Defaults {
		if !slices.Contains(Fields, f) {
			return nil, fmt.Errorf("mapping %s: unknown field %q in defaults (fields: %s)", path, f, fieldList())
		}
	}
	return &m, nil
}

func fieldList() string {
	s := make([]string, len(Fields))
	for i, f := range Fields {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// hash identifies the mapping in the state file: a rerun with another
// mapping would build other payloads for the rows already submitted.
func (m *Mapping) hash() string {
	b, _ := json.Marshal(m) // maps marshal with sorted keys
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Columns is a header resolved against a mapping: which column holds each
// field.
type Columns struct {
	Header   []string
	index    map[Field]int
	defaults map[Field]string
	// Ignored lists the header's columns that no field reads (an export's
	// record_id, status, authority, ...).
	Ignored []string
}

// Resolve finds each field's column in header: a name the mapping gives
// first, else one of the default aliases. Two columns that could both be
// one field are an error rather than a guess.
func Resolve(header []string, m *Mapping) (*Columns, error) {
	if m == nil {
		m = &Mapping{}
	}
	byName := map[string][]int{}
	for i, h := range header {
		n := normalizeHeader(h)
		if n != "" {
			byName[n] = append(byName[n], i)
		}
	}
	c := &Columns{Header: header, index: map[Field]int{}, defaults: m.Defaults}
	claimed := map[int]Field{}
	for _, f := range Fields {
		col, err := findColumn(f, header, byName, m.Columns[f])
		if err != nil {
			return nil, err
		}
		if col < 0 {
			continue
		}
		if other, ok := claimed[col]; ok {
			return nil, fmt.Errorf("column %q would be both %s and %s; say which in a mapping file", header[col], other, f)
		}
		claimed[col] = f
		c.index[f] = col
	}
	for i, h := range header {
		if _, ok := claimed[i]; !ok && strings.TrimSpace(h) != "" {
			c.Ignored = append(c.Ignored, h)
		}
	}
	return c, nil
}

// findColumn returns the column of field f, or -1 when the header has none.
func findColumn(f Field, header []string, byName map[string][]int, mapped Names) (int, error) {
	one := func(name string) (int, error) {
		cols := byName[normalizeHeader(name)]
		if len(cols) > 1 {
			return 0, fmt.Errorf("the header has %d columns named %q (for %s)", len(cols), header[cols[0]], f)
		}
		if len(cols) == 0 {
			return -1, nil
		}
		return cols[0], nil
	}
	if len(mapped) > 0 {
		for _, name := range mapped {
			if col, err := one(name); err != nil || col >= 0 {
				return col, err
			}
		}
		return 0, fmt.Errorf("mapping: no column %q for %s in the header", strings.Join(mapped, `" or "`), f)
	}
	found := -1
	for _, alias := range DefaultAliases[f] {
		col, err := one(alias)
		if err != nil {
			return 0, err
		}
		if col < 0 || col == found {
			continue
		}
		if found >= 0 {
			return 0, fmt.Errorf("columns %q and %q could both be %s; name one in a mapping file", header[found], header[col], f)
		}
		found = col
	}
	return found, nil
}

// Has reports whether a column or a default supplies f.
func (c *Columns) Has(f Field) bool {
	_, ok := c.index[f]
	return ok || c.defaults[f] != ""
}

// cell returns field f of a row, trimmed, the mapping's default when the
// cell is empty or the column absent, and the column's header name for
// messages.
func (c *Columns) cell(row []string, f Field) (value, column string) {
	if i, ok := c.index[f]; ok {
		column = c.Header[i]
		if i < len(row) {
			value = strings.TrimFunc(row[i], isSpace)
		}
	}
	if value == "" {
		if d := c.defaults[f]; d != "" {
			value = strings.TrimFunc(d, isSpace)
			if column == "" {
				column = "(default " + string(f) + ")"
			}
		}
	}
	if column == "" {
		column = string(f)
	}
	return value, column
}
