package txn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/suite"
)

var (
	testNow = time.Date(2026, 11, 25, 8, 1, 0, 0, time.UTC)
	h64     = strings.Repeat("ab", 32)
	h64b    = strings.Repeat("cd", 32)
)

// validPayloads holds one valid payload per transaction type.
var validPayloads = map[string]string{
	TypeReportSubmit: `{"subject":{"kind":"organization","uscc":"91350200776049653A","name":"厦门某某有限公司"},
		"category":"serious-dishonesty","facts":"拖欠工资","evidence":["` + h64 + `"]}`,
	TypeRecordCreate:      vectorPayload(),
	TypeRecordAttest:      `{"record_id":"` + h64 + `","kind":"performed","at":"2026-06-01T00:00:00Z"}`,
	TypeRepairApply:       `{"record_id":"` + h64 + `","pledge_hash":"` + h64b + `","materials":["` + h64b + `"]}`,
	TypeRepairDecide:      `{"record_id":"` + h64 + `","application":"` + h64b + `","decision":"approved"}`,
	TypeObjectionFile:     `{"record_id":"` + h64 + `","grounds":"已履行"}`,
	TypeObjectionResolve:  `{"objection":"` + h64 + `","outcome":"dismissed","reason":"无新证据"}`,
	TypeRecordRevoke:      `{"record_id":"` + h64 + `","reason":"异议成立"}`,
	TypeRecordExit:        `{"record_id":"` + h64 + `","policy":"court-defaulter","version":1,"reason":"term_elapsed"}`,
	TypeRecordPurge:       `{"record_id":"` + h64 + `"}`,
	TypeCertificateIssue:  `{"cert_no":"CC-2026-000001","record_id":"` + h64 + `","exit_tx":"` + h64b + `","cert_hash":"` + h64 + `"}`,
	TypeCertificateRevoke: `{"cert_no":"CC-2026-000001","reason":"issued in error"}`,
	TypeMemberUpdate: `{"action":"admit","member":{"id":"91350200776049653A","name":"厦门市中级人民法院","kind":"court",
		"roles":["recorder","submitter"],"categories":["court-defaulter"],
		"keys":[{"key_id":"95008854475f1fa6","alg":"ed25519","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="}]}}`,
	TypePolicyPropose: `{"id":"court-defaulter","version":2,"eligible":"now >= record.start + record.term",
		"due":"record.start + record.term","purge_after":"P5Y","description":"失信被执行人"}`,
	TypePolicyApprove: `{"id":"court-defaulter","version":2}`,
}

func vectorPayload() string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(vectorEnvelope), &m); err != nil {
		panic(err)
	}
	return string(m["payload"])
}

// check decodes raw as a txType payload and validates it in an envelope
// signed under the Ed25519 vector key, the way intake does.
func check(t *testing.T, txType, raw string, personal *Personal) *apierr.Error {
	t.Helper()
	p, err := DecodePayload(txType, json.RawMessage(raw))
	if err != nil {
		ae, ok := apierr.As(err)
		if !ok {
			t.Fatalf("DecodePayload error %v is not an *apierr.Error", err)
		}
		return ae
	}
	e := &Envelope{Chain: "creditchain-test", Type: txType, Submitter: vectorUSCC,
		Nonce: "Zq3xT8vN2mK7pL4wR9sB6yHc", CreatedAt: "2026-11-25T08:00:00Z", Payload: json.RawMessage(raw)}
	kf := loadVectorKey(t, vectorEd25519KeyFile)
	s, _ := suite.ByName(kf.Alg)
	if err := Sign(e, s, kf.PrivateKey(), kf.KeyID); err != nil {
		t.Fatal(err)
	}
	return Validate(e, p, personal, testNow)
}

func TestEveryTypeHasAValidPayload(t *testing.T) {
	if len(Types) != 15 || len(payloadTypes) != 15 {
		t.Fatalf("%d types, %d payload types; want 15", len(Types), len(payloadTypes))
	}
	for _, typ := range Types {
		raw, ok := validPayloads[typ]
		if !ok {
			t.Fatalf("no valid payload for %s", typ)
		}
		if err := check(t, typ, raw, nil); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestDecodePayloadTypes(t *testing.T) {
	p, err := DecodePayload(TypeRecordCreate, json.RawMessage(vectorPayload()))
	if err != nil {
		t.Fatal(err)
	}
	rc := p.(*RecordCreate)
	if rc.Subject.Code() != vectorUSCC || rc.Basis.DocumentNo != "(2026)闽02执123号" ||
		!slices.Equal(rc.Measures, []string{"high_consumption_ban", "travel_ban"}) {
		t.Fatalf("decoded %+v", rc)
	}
	p, err = DecodePayload(TypeMemberUpdate, json.RawMessage(validPayloads[TypeMemberUpdate]))
	if err != nil {
		t.Fatal(err)
	}
	if m := p.(*MemberUpdate).Member; len(m.Keys) != 1 || len(m.Keys[0].Public) != 32 {
		t.Fatalf("decoded %+v", m)
	}
	if _, err := DecodePayload("record.delete", json.RawMessage(`{}`)); err == nil {
		t.Fatal("unknown type decoded")
	}
}

// with returns the valid payload of txType with the member at path (dot
// separated) set to the raw JSON value, or removed when value is "".
func with(t *testing.T, txType, path, value string) string {
	t.Helper()
	var root any
	if err := json.Unmarshal([]byte(validPayloads[txType]), &root); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	obj := root.(map[string]any)
	for _, k := range keys[:len(keys)-1] {
		obj = obj[k].(map[string]any)
	}
	last := keys[len(keys)-1]
	if value == "" {
		delete(obj, last)
	} else {
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatalf("bad test value %s: %v", value, err)
		}
		obj[last] = v
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPayloadErrors(t *testing.T) {
	const (
		malformed  = "malformed"
		badUSCC    = "invalid_uscc"
		wrongCheck = `"91350200776049653B"`
	)
	cases := []struct {
		typ, path, value, code, msg string
	}{
		// Shape.
		{TypeRecordCreate, "extra", `1`, malformed, `payload: unknown member "extra"`},
		{TypeRecordCreate, "subject.extra", `1`, malformed, `payload.subject: unknown member "extra"`},
		{TypeRecordCreate, "basis.law", "", malformed, "payload.basis.law: missing member"},
		{TypeRecordCreate, "term", `null`, malformed, "payload.term: must not be null"},
		{TypeRecordCreate, "report_ref", `null`, malformed, "payload.report_ref: must not be null"},
		{TypeRecordCreate, "term", `""`, malformed, "payload.term: optional member is empty"},
		{TypeRecordCreate, "measures", `"travel_ban"`, malformed, "payload.measures: must be an array"},
		{TypeRecordCreate, "measures", `["travel_ban",null]`, malformed, "payload.measures[1]: must not be null"},
		{TypeRecordCreate, "measures", `["travel_ban",3]`, malformed, "payload.measures[1]: must be a string"},
		{TypeRecordCreate, "subject", `[]`, malformed, "payload.subject: must be an object"},
		{TypeRecordExit, "version", `"1"`, malformed, "payload.version: must be an integer"},
		{TypeRecordExit, "version", `1.5`, malformed, "payload.version: must be an integer"},
		{TypeRecordExit, "version", `9007199254740993`, malformed, "payload.version: integer out of range"},
		{TypeRecordExit, "version", `true`, malformed, "payload.version: must be an integer"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"ed25519","public":"not base64!"}]`, malformed, "payload.member.keys[0].public: not standard base64"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"ed25519","public":"ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="}]`, malformed, "payload.member.keys[0].public: not standard base64"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"ed25519","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ"}]`, malformed, "payload.member.keys[0].public: not standard base64"},
		// Times, durations, hashes.
		{TypeRecordCreate, "start", `"2026-01-05T08:00:00+08:00"`, malformed, "payload.start"},
		{TypeRecordCreate, "start", `"2026-01-05"`, malformed, "payload.start"},
		{TypeRecordCreate, "basis.decided_at", `"2026-01-05 00:00:00Z"`, malformed, "payload.basis.decided_at"},
		{TypeRecordAttest, "at", `"2026-06-01T00:00:00.000+00:00"`, malformed, "payload.at"},
		{TypeRecordCreate, "term", `"2Y"`, malformed, "payload.term"},
		{TypeRecordCreate, "term", `"P2.5Y"`, malformed, "payload.term"},
		{TypeRecordCreate, "term", `"P"`, malformed, "payload.term"},
		{TypePolicyPropose, "purge_after", `"five years"`, malformed, "payload.purge_after"},
		{TypeRecordCreate, "report_ref", `"` + strings.ToUpper(h64) + `"`, malformed, "payload.report_ref"},
		{TypeRecordAttest, "record_id", `"abc"`, malformed, "payload.record_id"},
		{TypeRecordAttest, "evidence_hash", `"` + h64 + `00"`, malformed, "payload.evidence_hash"},
		{TypeReportSubmit, "evidence", `["` + h64 + `","xyz"]`, malformed, "payload.evidence[1]"},
		{TypeRepairApply, "pledge_hash", `"g` + h64[1:] + `"`, malformed, "payload.pledge_hash"},
		{TypeRepairApply, "materials", `["0x` + h64[2:] + `"]`, malformed, "payload.materials[0]"},
		{TypeRepairDecide, "application", `"` + h64[:63] + `"`, malformed, "payload.application"},
		{TypeObjectionResolve, "objection", `""`, malformed, "payload.objection"},
		{TypeCertificateIssue, "exit_tx", `"x"`, malformed, "payload.exit_tx"},
		{TypeCertificateIssue, "cert_hash", `"x"`, malformed, "payload.cert_hash"},
		{TypeRecordPurge, "record_id", `"x"`, malformed, "payload.record_id"},
		// Enumerations.
		{TypeRecordAttest, "kind", `"paid"`, malformed, "payload.kind"},
		{TypeRepairDecide, "decision", `"approve"`, malformed, "payload.decision"},
		{TypeObjectionResolve, "outcome", `"accepted"`, malformed, "payload.outcome"},
		{TypeMemberUpdate, "action", `"delete"`, malformed, "payload.action"},
		{TypeMemberUpdate, "member.kind", `"police"`, malformed, "payload.member.kind"},
		{TypeMemberUpdate, "member.roles", `["recorder","admin"]`, malformed, "payload.member.roles[1]"},
		{TypeMemberUpdate, "member.roles", `["recorder","recorder"]`, malformed, "payload.member.roles[1]: duplicate"},
		{TypeMemberUpdate, "member.roles", `[]`, malformed, "payload.member.roles"},
		{TypeRecordCreate, "subject.kind", `"company"`, malformed, "payload.subject.kind"},
		// Required text.
		{TypeRecordCreate, "category", `""`, malformed, "payload.category: empty"},
		{TypeRecordCreate, "measures", `["travel_ban",""]`, malformed, "payload.measures[1]: empty"},
		{TypeRecordCreate, "measures", `["travel_ban","travel_ban"]`, malformed, "payload.measures[1]: duplicate"},
		{TypeReportSubmit, "facts", `""`, malformed, "payload.facts: empty"},
		{TypeObjectionFile, "grounds", `""`, malformed, "payload.grounds: empty"},
		{TypeRecordRevoke, "reason", `""`, malformed, "payload.reason: empty"},
		{TypeRecordExit, "version", `0`, malformed, "payload.version"},
		{TypeRecordExit, "policy", `""`, malformed, "payload.policy: empty"},
		{TypeCertificateRevoke, "cert_no", `""`, malformed, "payload.cert_no: empty"},
		{TypePolicyApprove, "version", `-1`, malformed, "payload.version"},
		{TypePolicyPropose, "eligible", `""`, malformed, "payload.eligible: empty"},
		// Subjects.
		{TypeRecordCreate, "subject.uscc", wrongCheck, badUSCC, "payload.subject.uscc"},
		{TypeRecordCreate, "subject.uscc", `"91350200776049653"`, badUSCC, "payload.subject.uscc"},
		{TypeReportSubmit, "subject.uscc", `"9135020077604965 A"`, badUSCC, "payload.subject.uscc"},
		{TypeRecordCreate, "subject.uscc", "", badUSCC, "payload.subject.uscc"},
		{TypeRecordCreate, "subject.name", "", malformed, "payload.subject.name: empty"},
		{TypeRecordCreate, "subject.commitment", `"` + h64 + `"`, malformed, "payload.subject.commitment"},
		// Members.
		{TypeMemberUpdate, "member.id", wrongCheck, badUSCC, "payload.member.id"},
		{TypeMemberUpdate, "member.name", "", malformed, "payload.member.name: empty"},
		{TypeMemberUpdate, "member.keys", `[]`, malformed, "payload.member.keys"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"0000000000000000","alg":"ed25519","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="}]`, malformed, "payload.member.keys[0].key_id"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"ed25519","public":"AAAA"}]`, malformed, "payload.member.keys[0].public"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"rsa","public":"ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="}]`, malformed, "payload.member.keys[0].alg"},
		{TypeMemberUpdate, "member.keys", `[{"key_id":"95008854475f1fa6","alg":"ed25519"}]`, malformed, "payload.member.keys[0].public: missing member"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s=%s", c.typ, c.path, c.value), func(t *testing.T) {
			err := check(t, c.typ, with(t, c.typ, c.path, c.value), nil)
			if err == nil {
				t.Fatalf("accepted; want %s", c.code)
			}
			if err.Status != 400 || err.Code != c.code || !strings.Contains(err.Message, c.msg) {
				t.Fatalf("got %d %s %q; want 400 %s mentioning %q", err.Status, err.Code, err.Message, c.code, c.msg)
			}
		})
	}
}

func TestMemberSuspendNeedsOnlyID(t *testing.T) {
	for _, action := range []string{ActionSuspend, ActionRemove} {
		raw := `{"action":"` + action + `","member":{"id":"91350200776049653A"}}`
		if err := check(t, TypeMemberUpdate, raw, nil); err != nil {
			t.Errorf("%s: %v", action, err)
		}
	}
	raw := `{"action":"update","member":{"id":"91350200776049653A"}}`
	if err := check(t, TypeMemberUpdate, raw, nil); err == nil {
		t.Error("update with only an id accepted")
	}
}

func TestValidateRejectsMismatchedPayload(t *testing.T) {
	e, err := DecodeEnvelope([]byte(envelopeWith(t, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if aerr := Validate(e, &RecordPurge{RecordID: h64}, nil, testNow); aerr == nil || aerr.Code != "malformed" {
		t.Fatalf("got %v", aerr)
	}
	if aerr := Validate(e, nil, nil, testNow); aerr == nil {
		t.Fatal("nil payload accepted")
	}
}
