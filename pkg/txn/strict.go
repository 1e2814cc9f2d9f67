package txn

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/canonjson"
)

// Strict decoding. encoding/json forgives too much for a signed contract: it
// takes the last of duplicate members, ignores unknown ones, treats null as
// "leave unchanged" and replaces invalid UTF-8. So a body is first
// canonicalized with JCS (which rejects invalid UTF-8, lone surrogates and
// duplicate members), then its shape is checked against the Go type's json
// tags (unknown members, nulls, missing required members, wrong JSON types),
// and only then decoded. A member whose tag has omitempty is optional; every
// other member is required.

// maxSafeInteger bounds integers: JCS writes numbers as IEEE doubles, so a
// larger integer would not survive canonicalization exactly.
const maxSafeInteger = 1<<53 - 1

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// canonicalize returns the JCS form of data or a malformed error.
func canonicalize(data []byte, what string) ([]byte, *apierr.Error) {
	if len(data) == 0 {
		return nil, apierr.Malformed("%s: empty body", what)
	}
	c, err := canonjson.Transform(data)
	if err != nil {
		return nil, apierr.Malformed("%s: invalid JSON: %v", what, err)
	}
	return c, nil
}

// decodeStrict decodes the canonical JSON c into v (a pointer), after
// checking its shape against v's type. path names the value in messages.
func decodeStrict(c []byte, v any, path string) *apierr.Error {
	if err := checkShape(c, reflect.TypeOf(v).Elem(), path); err != nil {
		return err
	}
	if err := json.Unmarshal(c, v); err != nil {
		// The shape is already checked, so what remains is a bad base64 key
		// or the like: report it against the root.
		return apierr.Malformed("%s: %v", path, err)
	}
	return nil
}

type fieldInfo struct {
	index    int // in structInfo.order
	name     string
	optional bool
	typ      reflect.Type
}

type structInfo struct {
	fields map[string]*fieldInfo
	order  []*fieldInfo
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]*fieldInfo{}}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fi := &fieldInfo{index: len(si.order), name: name, optional: strings.Contains(opts, "omitempty"), typ: f.Type}
		si.fields[name] = fi
		si.order = append(si.order, fi)
	}
	structInfos.Store(t, si)
	return si
}

var integerPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// checkShape checks that the canonical JSON value c has the JSON shape that
// type t decodes from.
func checkShape(c []byte, t reflect.Type, path string) *apierr.Error {
	if len(c) == 0 {
		return apierr.Malformed("%s: missing value", path)
	}
	if c[0] == 'n' {
		return apierr.Malformed("%s: must not be null (leave optional members out instead)", path)
	}
	if t == rawMessageType {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkShape(c, t.Elem(), path)
	case reflect.Struct:
		return checkObject(c, t, path)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			// Key bytes: standard base64 with padding (DESIGN 9.6).
			var text string
			if c[0] != '"' || json.Unmarshal(c, &text) != nil {
				return apierr.Malformed("%s: must be a base64 string", path)
			}
			if _, err := base64.StdEncoding.Strict().DecodeString(text); err != nil {
				return apierr.Malformed("%s: not standard base64 with padding: %v", path, err)
			}
			return nil
		}
		return checkArray(c, t.Elem(), path)
	case reflect.String:
		if c[0] != '"' {
			return apierr.Malformed("%s: must be a string", path)
		}
	case reflect.Bool:
		if c[0] != 't' && c[0] != 'f' {
			return apierr.Malformed("%s: must be true or false", path)
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		s := string(c)
		if !integerPattern.MatchString(s) {
			return apierr.Malformed("%s: must be an integer", path)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
			return apierr.Malformed("%s: integer out of range", path)
		}
		if t.Kind() == reflect.Uint64 && n < 0 {
			return apierr.Malformed("%s: must not be negative", path)
		}
	default:
		// Only reachable by adding a payload field of an unsupported kind.
		panic(fmt.Sprintf("txn: strict decoding does not support %v", t))
	}
	return nil
}

func checkObject(c []byte, t reflect.Type, path string) *apierr.Error {
	if c[0] != '{' {
		return apierr.Malformed("%s: must be an object", path)
	}
	si := infoOf(t)
	values := make([][]byte, len(si.order))
	var unknown []string
	eachMember(c, func(name, raw []byte) {
		if f, ok := si.fields[string(name)]; ok {
			values[f.index] = raw
			return
		}
		unknown = append(unknown, memberName(name))
	})
	// Report unknown members in a stable order.
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return apierr.Malformed("%s: unknown member %q", path, unknown[0])
	}
	for i, f := range si.order {
		raw := values[i]
		sub := join(path, f.name)
		if raw == nil {
			if f.optional {
				continue
			}
			return apierr.Malformed("%s: missing member", sub)
		}
		if err := checkShape(raw, f.typ, sub); err != nil {
			return err
		}
		if f.optional && f.typ.Kind() == reflect.String && string(raw) == `""` {
			// Go would drop an empty optional string on re-encoding, and
			// "absent" and "empty" must not be two spellings of one thing.
			return apierr.Malformed("%s: optional member is empty; leave it out instead", sub)
		}
	}
	return nil
}

func checkArray(c []byte, elem reflect.Type, path string) *apierr.Error {
	if c[0] != '[' {
		return apierr.Malformed("%s: must be an array", path)
	}
	i := 0
	var bad *apierr.Error
	eachItem(c, func(raw []byte) {
		if bad == nil {
			bad = checkShape(raw, elem, fmt.Sprintf("%s[%d]", path, i))
		}
		i++
	})
	return bad
}

// bodyPath names the root of a request body in messages; its members are
// named without it ("tx.nonce", not "body.tx.nonce").
const bodyPath = "body"

func join(path, name string) string {
	if path == bodyPath {
		return name
	}
	return path + "." + name
}
