package canonjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gowebpki/jcs"
	"pgregory.net/rapid"
)

var text = rapid.OneOf(rapid.String(),
	rapid.StringOf(rapid.RuneFrom([]rune{0, 1, 8, 9, 10, 12, 13, 0x1f, 0x7f, '"', '\\', '/', 'a', 'Z', '中', 0x2028, 0xfffd, 0x1f600})),
	rapid.SampledFrom([]string{"", "\u2028\u2029", "<&>", "\x7f", "\ufeff"}))

// asciiName draws member names the fast path accepts, so that it is
// exercised, mixed with names that send it to jcs.
var memberName = rapid.OneOf(rapid.StringMatching(`[a-z_]{0,6}`), text)

func jsonValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kind := rapid.IntRange(0, 7).Draw(t, "kind")
		if depth > 3 && kind >= 5 {
			kind = 0
		}
		switch kind {
		case 0:
			return text.Draw(t, "s")
		case 1:
			return rapid.Int64Range(-(1<<53)+1, 1<<53-1).Draw(t, "i")
		case 2:
			return rapid.Float64().Draw(t, "f")
		case 3:
			return rapid.Bool().Draw(t, "b")
		case 4:
			return nil
		case 5:
			return rapid.SliceOfN(jsonValue(depth+1), 0, 4).Draw(t, "a")
		default:
			return rapid.MapOfN(memberName, jsonValue(depth+1), 0, 5).Draw(t, "o")
		}
	})
}

// The fast path never changes what jcs would return: canonical input is
// returned as is, and only input jcs returns unchanged is called canonical.
func TestTransformAgreesWithJCS(t *testing.T) {
	fast := 0
	rapid.Check(t, func(t *rapid.T) {
		v := jsonValue(0).Draw(t, "v")
		raw, err := json.Marshal(v)
		if err != nil {
			t.Skip("not marshalable (NaN)")
		}
		want, err := jcs.Transform(raw)
		if err != nil {
			t.Fatalf("jcs: %v", err)
		}
		if IsCanonical(raw) && !bytes.Equal(raw, want) {
			t.Fatalf("called canonical, jcs disagrees:\n in  %q\n jcs %q", raw, want)
		}
		got, err := Transform(raw)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Transform(%q) = %q, %v; want %q", raw, got, err, want)
		}
		if IsCanonical(want) {
			fast++
		}
	})
	if fast == 0 {
		t.Fatal("the fast path never recognized canonical input")
	}
}

func TestIsCanonical(t *testing.T) {
	yes := []string{
		`{}`, `[]`, `""`, `0`, `-1`, `9007199254740991`, `true`, `null`,
		`{"a":1,"b":[true,false,null],"c":{"d":"\u001f\n\"\\"}}`,
		`"中文 / \u0000 ` + "\x7f\u2028" + `"`, `{"A":1,"a":2}`,
	}
	for _, in := range yes {
		if !IsCanonical([]byte(in)) {
			t.Errorf("IsCanonical(%s) = false", in)
		}
		if c, err := jcs.Transform([]byte(in)); err != nil || string(c) != in {
			t.Errorf("test case %s is not canonical per jcs: %s %v", in, c, err)
		}
	}
	no := []string{
		``, ` {}`, `{} `, `{"b":1,"a":2}`, `{"a":1,"a":1}`, `{"a" :1}`, `[1, 2]`,
		`"\/"`, `"\u0041"`, `"\u001F"`, `"\u000a"`, `"\ud800"`, "\"\xff\"", "\"\x01\"",
		`-0`, `01`, `1.5`, `1e3`, `9007199254740993`, `{"é":1}`, `{"a\n":1}`, `tru`, `[1,]`, `{"a":1,}`, `"abc`,
	}
	for _, in := range no {
		if IsCanonical([]byte(in)) {
			t.Errorf("IsCanonical(%q) = true", in)
		}
	}
}

func FuzzTransform(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"x"]}`, `{"a":"\u00e9"}`, `[true,null,-0]`, `"\ud83d\ude00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := jcs.Transform(in)
		got, gerr := Transform(in)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("Transform(%q) = %q, %v; jcs gives %q, %v", in, got, gerr, want, werr)
		}
	})
}
