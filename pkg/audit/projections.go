package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// projection is a table derived from the chain, compared row by row with
// the replayed state. Rows and replayed entities are walked side by side
// in byte order of their keys (COLLATE "C" is Go's string order).
type projection struct {
	table string
	key   string   // key column, as named in messages
	cols  []string // other columns, compared as text
	query string   // key, doc, ARRAY[cols as text] ordered by key COLLATE "C"
	keys  []string // replayed keys
	want  func(key string) (doc any, cols []string)
}

// epochKey spells an epoch number so that string order is number order.
func epochKey(n uint64) string { return fmt.Sprintf("%020d", n) }

func (a *auditor) projections() []projection {
	st, rp := a.rp.state, a.rp
	docTable := func(table string, keys []string, get func(string) any) projection {
		return projection{table: table, key: "id", keys: keys,
			query: `SELECT id, doc, ARRAY[]::text[] FROM ` + table + ` ORDER BY id COLLATE "C"`,
			want:  func(k string) (any, []string) { return get(k), nil }}
	}
	epochs := make([]string, len(st.Epochs))
	byKey := map[string]int{}
	for i, e := range st.Epochs {
		epochs[i] = epochKey(e.Epoch)
		byKey[epochs[i]] = i
	}
	return []projection{
		{table: "records", key: "record_id", keys: sortedKeys(st.Records),
			cols: []string{"status", "subject_code", "subject_kind", "category", "authority", "document_no", "updated_height"},
			query: `SELECT record_id, doc, ARRAY[status, subject_code, subject_kind, category, authority, document_no, updated_height::text]
				FROM records ORDER BY record_id COLLATE "C"`,
			want: func(k string) (any, []string) {
				r := st.Records[k]
				return r, []string{r.Status, r.Subject.Code(), r.Subject.Kind, r.Category, r.Authority, r.Basis.DocumentNo,
					strconv.FormatUint(rp.recordHeights[k], 10)}
			}},
		docTable("reports", sortedKeys(st.Reports), func(k string) any { return st.Reports[k] }),
		docTable("repair_applications", sortedKeys(st.Repairs), func(k string) any { return st.Repairs[k] }),
		docTable("objections", sortedKeys(st.Objections), func(k string) any { return st.Objections[k] }),
		{table: "certificates", key: "cert_no", keys: sortedKeys(st.Certificates), cols: []string{"record_id", "status"},
			query: `SELECT cert_no, doc, ARRAY[record_id, status] FROM certificates ORDER BY cert_no COLLATE "C"`,
			want: func(k string) (any, []string) {
				c := st.Certificates[k]
				return c, []string{c.RecordID, c.Status}
			}},
		docTable("policies", sortedKeys(st.Policies), func(k string) any { return st.Policies[k] }),
		{table: "epochs", key: "epoch", keys: epochs, cols: []string{"from_height"},
			query: `SELECT lpad(epoch::text, 20, '0'), members, ARRAY[from_height::text] FROM epochs ORDER BY lpad(epoch::text, 20, '0') COLLATE "C"`,
			want: func(k string) (any, []string) {
				e := st.Epochs[byKey[k]]
				return e.Members, []string{strconv.FormatUint(e.FromHeight, 10)}
			}},
	}
}

func sortedKeys[T any](m map[string]*T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// projRow is a projection row: its key, document and other columns.
type projRow struct {
	key  string
	doc  []byte
	cols []string
}

func scanProj(rows pgx.Rows) (projRow, error) {
	var r projRow
	err := rows.Scan(&r.key, &r.doc, &r.cols)
	return r, err
}

// checkProjections compares every projection with the replayed state.
func (a *auditor) checkProjections(ctx context.Context) (*Problem, error) {
	for i, pr := range a.projections() {
		if p, err := a.checkProjection(ctx, fmt.Sprintf("audit_proj_%d", i), pr); p != nil || err != nil {
			return p, err
		}
	}
	return nil, nil
}

func (a *auditor) checkProjection(ctx context.Context, cursorName string, pr projection) (*Problem, error) {
	cur, err := openCursor(ctx, a.tx, cursorName, pr.query, scanProj)
	if err != nil {
		return nil, err
	}
	h := a.rp.height
	name := func(k string) string {
		if pr.table == "epochs" {
			k = strings.TrimLeft(k, "0")
			if k == "" {
				k = "0"
			}
		}
		return pr.key + "=" + k
	}
	i := 0
	for {
		row, ok, err := cur.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch {
		case i == len(pr.keys) || row.key < pr.keys[i]:
			return problem(h, pr.table, name(row.key), "not in the replayed state"), nil
		case row.key > pr.keys[i]:
			return problem(h, pr.table, name(pr.keys[i]), "row missing"), nil
		}
		doc, cols := pr.want(row.key)
		if len(row.cols) != len(cols) {
			return nil, fmt.Errorf("%s: read %d columns, want %d", pr.table, len(row.cols), len(cols))
		}
		for j := range cols {
			if row.cols[j] != cols[j] {
				return problem(h, pr.table, name(row.key), "%s %q but replay says %q", pr.cols[j], row.cols[j], cols[j]), nil
			}
		}
		if d, err := docDiff(row.doc, doc); err != nil || d != "" {
			if err != nil {
				return problem(h, pr.table, name(row.key), "doc: %v", err), nil
			}
			return problem(h, pr.table, name(row.key), "%s", d), nil
		}
		i++
	}
	if i < len(pr.keys) {
		return problem(h, pr.table, name(pr.keys[i]), "row missing"), nil
	}
	return nil, nil
}

// docDiff compares a stored JSON document with the replayed entity as
// JSON values (jsonb reorders members), naming the first difference.
func docDiff(stored []byte, want any) (string, error) {
	var got any
	if err := json.Unmarshal(stored, &got); err != nil {
		return "", err
	}
	raw, err := json.Marshal(want)
	if err != nil {
		return "", err
	}
	var exp any
	if err := json.Unmarshal(raw, &exp); err != nil {
		return "", err
	}
	return firstDiff("doc", got, exp), nil
}

// firstDiff names the first place where got and want differ, "" if none.
func firstDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(g)+len(w))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, dup := w[k]; !dup {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				return fmt.Sprintf("%s.%s absent but replay says %s", path, k, short(wv))
			case !wok:
				return fmt.Sprintf("%s.%s %s but replay has none", path, k, short(gv))
			}
			if d := firstDiff(path+"."+k, gv, wv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		for i := 0; i < min(len(g), len(w)); i++ {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s has %d items but replay says %d", path, len(g), len(w))
		}
		return ""
	default:
		if got == want {
			return ""
		}
	}
	return fmt.Sprintf("%s %s but replay says %s", path, short(got), short(want))
}

// short is a JSON value cut to a readable length.
func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
