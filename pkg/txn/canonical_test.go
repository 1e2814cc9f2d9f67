package txn

import (
	"encoding/json"
	"testing"

	"github.com/gowebpki/jcs"
	"pgregory.net/rapid"
)

// reference is the obvious canonicalization: marshal, then JCS.
func reference(t *rapid.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jcs.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCanonicalMatchesJCS(t *testing.T) {
	text := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.RuneFrom([]rune{0, 1, 8, 9, 10, 11, 12, 13, 0x1f, 0x7f, '"', '\\', '/', 'a', '中', 0x2028, 0xfffd})),
		rapid.SampledFrom([]string{"", "\"\\", "\u2028\u2029", "<&>", "\x7f", "😀", "\ufeff"}))
	t.Run("property", rapid.MakeCheck(func(t *rapid.T) {
		e := &Envelope{
			Chain: text.Draw(t, "chain"), Type: text.Draw(t, "type"), Submitter: text.Draw(t, "submitter"),
			Nonce: text.Draw(t, "nonce"), CreatedAt: text.Draw(t, "created_at"),
		}
		pl := map[string]string{text.Draw(t, "k1"): text.Draw(t, "v1"), text.Draw(t, "k2"): text.Draw(t, "v2")}
		pb, _ := json.Marshal(pl)
		e.Payload = pb
		if rapid.Bool().Draw(t, "signed") {
			e.Sig = &Signature{Alg: text.Draw(t, "alg"), KeyID: text.Draw(t, "key_id"), Value: text.Draw(t, "value")}
		}
		got, err := e.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, e); string(got) != string(want) {
			t.Fatalf("canonical\n got %q\nwant %q", got, want)
		}
		unsigned := *e
		unsigned.Sig = nil
		sb, err := e.SigningBytes()
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, &unsigned); string(sb) != string(want) {
			t.Fatalf("signing bytes\n got %q\nwant %q", sb, want)
		}
	}))
}

func TestCanonicalRejects(t *testing.T) {
	for name, e := range map[string]*Envelope{
		"no payload":      {Chain: "c"},
		"bad payload":     {Chain: "c", Payload: json.RawMessage(`{"a":`)},
		"duplicate":       {Chain: "c", Payload: json.RawMessage(`{"a":1,"a":2}`)},
		"invalid utf-8":   {Chain: "c\xff", Payload: json.RawMessage(`{}`)},
		"invalid sig utf": {Chain: "c", Payload: json.RawMessage(`{}`), Sig: &Signature{Value: "\xfe"}},
	} {
		if b, err := e.Canonical(); err == nil {
			t.Errorf("%s: canonicalized to %s", name, b)
		}
	}
}
