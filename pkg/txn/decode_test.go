package txn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/apierr"
)

const validSig = `{"alg":"ed25519","key_id":"95008854475f1fa6","value":"gGzHFUhGRcSqSjYIDnz5hLDxF4Urp8MHCDoWJ_4AQYvrBuyTYuYi2uVzy4tjQo2pcKjrdMMIl6dgaJ2_G_AACw"}`

// envelopeWith returns the vector envelope, signed, with member name set to
// the raw JSON value (or removed when value is "").
func envelopeWith(t testing.TB, name, value string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(vectorEnvelope), &m); err != nil {
		t.Fatal(err)
	}
	m["sig"] = json.RawMessage(validSig)
	if name != "" {
		if value == "" {
			delete(m, name)
		} else {
			m[name] = json.RawMessage(value)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantMalformed(t *testing.T, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want malformed containing %q", contains)
	}
	ae, ok := apierr.As(err)
	if !ok {
		t.Fatalf("error %v is not an *apierr.Error", err)
	}
	if ae.Status != 400 || ae.Code != "malformed" {
		t.Fatalf("got %d %s (%s), want 400 malformed", ae.Status, ae.Code, ae.Message)
	}
	if !strings.Contains(ae.Message, contains) {
		t.Fatalf("message %q does not mention %q", ae.Message, contains)
	}
}

func TestDecodeEnvelopeValid(t *testing.T) {
	for _, in := range []string{vectorEnvelope, envelopeWith(t, "", "")} {
		e, err := DecodeEnvelope([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != TypeRecordCreate || e.Chain != "creditchain-test" {
			t.Fatalf("decoded %+v", e)
		}
		if !strings.HasPrefix(string(e.Payload), `{"basis":`) {
			t.Fatalf("payload not canonical: %s", e.Payload)
		}
	}
	// Nanosecond times are fine.
	if _, err := DecodeEnvelope([]byte(envelopeWith(t, "created_at", `"2026-11-25T08:00:00.123456789Z"`))); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	cases := []struct {
		name, in, msg string
	}{
		{"empty", ``, "empty body"},
		{"not json", `{"chain":`, "invalid JSON"},
		{"trailing garbage", vectorEnvelope + `x`, "invalid JSON"},
		{"array", `[]`, "tx: must be an object"},
		{"duplicate member", `{"chain":"a","chain":"b"}`, "Duplicate key"},
		{"invalid utf-8", "{\"chain\":\"\xff\"}", "UTF-8"},
		{"lone surrogate", `{"chain":"\ud800"}`, "invalid JSON"},
		{"unknown member", envelopeWith(t, "extra", `1`), `unknown member "extra"`},
		{"missing chain", envelopeWith(t, "chain", ""), "tx.chain: missing member"},
		{"missing payload", envelopeWith(t, "payload", ""), "tx.payload: missing member"},
		{"null chain", envelopeWith(t, "chain", `null`), "tx.chain: must not be null"},
		{"null sig", envelopeWith(t, "sig", `null`), "tx.sig: must not be null"},
		{"null payload", envelopeWith(t, "payload", `null`), "tx.payload: must not be null"},
		{"chain number", envelopeWith(t, "chain", `5`), "tx.chain: must be a string"},
		{"empty chain", envelopeWith(t, "chain", `""`), "tx.chain: empty"},
		{"type object", envelopeWith(t, "type", `{}`), "tx.type: must be a string"},
		{"unknown type", envelopeWith(t, "type", `"record.delete"`), `unknown transaction type "record.delete"`},
		{"empty submitter", envelopeWith(t, "submitter", `""`), "tx.submitter: empty"},
		{"short nonce", envelopeWith(t, "nonce", `"0123456789abcde"`), "tx.nonce: 15 characters"},
		{"long nonce", envelopeWith(t, "nonce", `"`+strings.Repeat("n", 129)+`"`), "tx.nonce: 129 characters"},
		{"time with offset", envelopeWith(t, "created_at", `"2026-11-25T16:00:00+08:00"`), "tx.created_at"},
		{"time +00:00", envelopeWith(t, "created_at", `"2026-11-25T08:00:00+00:00"`), "tx.created_at"},
		{"time lowercase z", envelopeWith(t, "created_at", `"2026-11-25T08:00:00z"`), "tx.created_at"},
		{"time no seconds", envelopeWith(t, "created_at", `"2026-11-25T08:00Z"`), "tx.created_at"},
		{"time ten digits", envelopeWith(t, "created_at", `"2026-11-25T08:00:00.1234567890Z"`), "tx.created_at"},
		{"time month 13", envelopeWith(t, "created_at", `"2026-13-25T08:00:00Z"`), "tx.created_at"},
		{"time leap second", envelopeWith(t, "created_at", `"2026-12-31T23:59:60Z"`), "tx.created_at"},
		{"date only", envelopeWith(t, "created_at", `"2026-11-25"`), "tx.created_at"},
		{"payload array", envelopeWith(t, "payload", `[]`), "tx.payload: must be an object"},
		{"payload string", envelopeWith(t, "payload", `"{}"`), "tx.payload: must be an object"},
		{"sig string", envelopeWith(t, "sig", `"abc"`), "tx.sig: must be an object"},
		{"sig unknown member", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6","value":"AA","x":1}`), `unknown member "x"`},
		{"sig missing value", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6"}`), "tx.sig.value: missing member"},
		{"sig unknown alg", envelopeWith(t, "sig", `{"alg":"rsa","key_id":"95008854475f1fa6","value":"AA"}`), `tx.sig.alg: unknown alg "rsa"`},
		{"sig key id upper", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475F1FA6","value":"AA"}`), "tx.sig.key_id"},
		{"sig key id short", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854","value":"AA"}`), "tx.sig.key_id"},
		{"sig padded", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6","value":"AA=="}`), "tx.sig.value"},
		{"sig std base64", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6","value":"a+b/"}`), "tx.sig.value"},
		{"sig trailing bits", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6","value":"AB"}`), "tx.sig.value"},
		{"sig empty", envelopeWith(t, "sig", `{"alg":"ed25519","key_id":"95008854475f1fa6","value":""}`), "tx.sig.value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeEnvelope([]byte(c.in))
			wantMalformed(t, err, c.msg)
		})
	}
}

func submissionWith(t testing.TB, tx, personal string) string {
	t.Helper()
	if personal == "" {
		return `{"tx":` + tx + `}`
	}
	return `{"tx":` + tx + `,"personal":` + personal + `}`
}

func TestDecodeSubmission(t *testing.T) {
	s, err := DecodeSubmission([]byte(submissionWith(t, envelopeWith(t, "", ""), "")))
	if err != nil {
		t.Fatal(err)
	}
	rc, ok := s.Payload.(*RecordCreate)
	if !ok || rc.Subject.USCC != vectorUSCC || rc.Term != "P2Y" {
		t.Fatalf("payload %#v", s.Payload)
	}
	s, err = DecodeSubmission([]byte(submissionWith(t, envelopeWith(t, "", ""), vectorPersonal)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Personal == nil || s.Personal.Name != "张三" {
		t.Fatalf("personal %+v", s.Personal)
	}
}

func TestDecodeSubmissionErrors(t *testing.T) {
	env := envelopeWith(t, "", "")
	cases := []struct {
		name, in, msg string
	}{
		{"empty", ``, "empty body"},
		{"not object", `"tx"`, "body: must be an object"},
		{"missing tx", `{}`, "tx: missing member"},
		{"null tx", `{"tx":null}`, "tx: must not be null"},
		{"null personal", `{"tx":` + env + `,"personal":null}`, "personal: must not be null"},
		{"unknown member", `{"tx":` + env + `,"extra":true}`, `unknown member "extra"`},
		{"duplicate tx", `{"tx":` + env + `,"tx":` + env + `}`, "Duplicate key"},
		{"unsigned", submissionWith(t, envelopeWith(t, "sig", ""), ""), "tx.sig: missing member"},
		{"bad envelope", submissionWith(t, envelopeWith(t, "nonce", `"short"`), ""), "tx.nonce"},
		{"envelope unknown member", submissionWith(t, envelopeWith(t, "x", `1`), ""), `tx: unknown member "x"`},
		{"personal unknown member", submissionWith(t, env, `{"name":"a","id_number":"b","salt":"c","age":3}`), `personal: unknown member "age"`},
		{"personal missing salt", submissionWith(t, env, `{"name":"a","id_number":"b"}`), "personal.salt: missing member"},
		{"personal number", submissionWith(t, env, `{"name":"a","id_number":110105,"salt":"c"}`), "personal.id_number: must be a string"},
		{"payload unknown member", submissionWith(t, envelopeWith(t, "payload", `{"record_id":"x","extra":1}`), ""), `payload: unknown member`},
		{"payload of another type", submissionWith(t, envelopeWith(t, "payload", `{"record_id":"`+strings.Repeat("a", 64)+`"}`), ""), `payload: unknown member "record_id"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := DecodeSubmission([]byte(c.in))
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			wantMalformed(t, err, c.msg)
		})
	}
}
