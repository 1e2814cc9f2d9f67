package txn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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

// decodeStrict decodes the canonical JSON c into v (a pointer), checking
// its shape against v's type on the way. path names the value in messages.
//
// It walks c itself instead of handing it to encoding/json after the check:
// c is canonical (no whitespace, JCS strings, valid UTF-8), so a value is
// found by skipping and a string without escapes is its own bytes, and
// encoding/json (validating the whole document again, then decoding by
// reflection) was the largest single cost of every node applying blocks.
// Fuzzed against encoding/json in FuzzDecodeStrictAgreesWithEncodingJSON.
func decodeStrict(c []byte, v any, path string) *apierr.Error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("txn: decodeStrict into %T", v))
	}
	return decodeValue(c, rv.Elem(), &jsonPath{name: path})
}

// jsonPath names a value in messages. It is built as the walk descends and
// spelled out only for an error: most values decode without one.
type jsonPath struct {
	up    *jsonPath
	name  string // a member's name, or the root's
	index int    // an item's index, when name is ""
}

func (p *jsonPath) String() string {
	switch {
	case p.up == nil:
		return p.name
	case p.name != "":
		return join(p.up.String(), p.name)
	default:
		return fmt.Sprintf("%s[%d]", p.up.String(), p.index)
	}
}

type fieldInfo struct {
	index    int // in structInfo.order
	field    int // index of the Go field
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
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous {
			// encoding/json would flatten it; the contract has none.
			panic(fmt.Sprintf("txn: strict decoding does not support the embedded field %s of %v", f.Name, t))
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fi := &fieldInfo{index: len(si.order), field: i, name: name, optional: strings.Contains(opts, "omitempty"), typ: f.Type}
		si.fields[name] = fi
		si.order = append(si.order, fi)
	}
	structInfos.Store(t, si)
	return si
}

// decodeValue checks that the canonical JSON value c has the JSON shape
// that v's type decodes from, and decodes it into v.
func decodeValue(c []byte, v reflect.Value, path *jsonPath) *apierr.Error {
	if len(c) == 0 {
		return apierr.Malformed("%s: missing value", path)
	}
	if c[0] == 'n' {
		return apierr.Malformed("%s: must not be null (leave optional members out instead)", path)
	}
	t := v.Type()
	if t == rawMessageType {
		v.SetBytes(slices.Clone(c))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		if err := decodeValue(c, e.Elem(), path); err != nil {
			return err
		}
		v.Set(e)
	case reflect.Struct:
		return decodeObject(c, v, path)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			// Key bytes: standard base64 with padding (DESIGN 9.6).
			text, ok := stringValue(c)
			if !ok {
				return apierr.Malformed("%s: must be a base64 string", path)
			}
			b, err := base64.StdEncoding.Strict().DecodeString(text)
			if err != nil {
				return apierr.Malformed("%s: not standard base64 with padding: %v", path, err)
			}
			v.SetBytes(b)
			return nil
		}
		return decodeArray(c, v, path)
	case reflect.String:
		s, ok := stringValue(c)
		if !ok {
			return apierr.Malformed("%s: must be a string", path)
		}
		v.SetString(s)
	case reflect.Bool:
		switch string(c) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return apierr.Malformed("%s: must be true or false", path)
		}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		n, err := safeInteger(c)
		if err != nil {
			return apierr.Malformed("%s: %s", path, err.Error())
		}
		if t.Kind() == reflect.Uint64 {
			if n < 0 {
				return apierr.Malformed("%s: must not be negative", path)
			}
			v.SetUint(uint64(n))
		} else {
			v.SetInt(n)
		}
	default:
		// Only reachable by adding a payload field of an unsupported kind.
		panic(fmt.Sprintf("txn: strict decoding does not support %v", t))
	}
	return nil
}

// stringValue is the canonical JSON string c, decoded.
func stringValue(c []byte) (string, bool) {
	if len(c) < 2 || c[0] != '"' {
		return "", false
	}
	inner := c[1 : len(c)-1]
	if !slices.Contains(inner, '\\') {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(c, &s) != nil {
		return "", false
	}
	return s, true
}

var (
	errNotInteger   = errors.New("must be an integer")
	errIntegerRange = errors.New("integer out of range")
)

// safeInteger is the JSON integer c (no fraction, exponent or leading
// zero) within the range a double holds exactly.
func safeInteger(c []byte) (int64, error) {
	digits := c
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, errNotInteger
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, errNotInteger
		}
	}
	n, err := strconv.ParseInt(string(c), 10, 64)
	if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
		return 0, errIntegerRange
	}
	return n, nil
}

func decodeObject(c []byte, v reflect.Value, path *jsonPath) *apierr.Error {
	if c[0] != '{' {
		return apierr.Malformed("%s: must be an object", path)
	}
	si := infoOf(v.Type())
	// Each member's raw value, by field; on the stack for most types.
	var small [16][]byte
	var values [][]byte
	if n := len(si.order); n <= len(small) {
		values = small[:n]
	} else {
		values = make([][]byte, n)
	}
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
		if raw == nil {
			if f.optional {
				continue
			}
			return apierr.Malformed("%s: missing member", join(path.String(), f.name))
		}
		if f.optional && f.typ.Kind() == reflect.String && string(raw) == `""` {
			// Go would drop an empty optional string on re-encoding, and
			// "absent" and "empty" must not be two spellings of one thing.
			return apierr.Malformed("%s: optional member is empty; leave it out instead", join(path.String(), f.name))
		}
		if err := decodeValue(raw, v.Field(f.field), &jsonPath{up: path, name: f.name}); err != nil {
			return err
		}
	}
	return nil
}

func decodeArray(c []byte, v reflect.Value, path *jsonPath) *apierr.Error {
	if c[0] != '[' {
		return apierr.Malformed("%s: must be an array", path)
	}
	n := 0
	eachItem(c, func([]byte) { n++ })
	s := reflect.MakeSlice(v.Type(), n, n)
	i := 0
	var bad *apierr.Error
	eachItem(c, func(raw []byte) {
		if bad == nil {
			bad = decodeValue(raw, s.Index(i), &jsonPath{up: path, index: i})
		}
		i++
	})
	if bad != nil {
		return bad
	}
	v.Set(s)
	return nil
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
