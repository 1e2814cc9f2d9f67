package txn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

func vectorPersonalValue(t *testing.T) *Personal {
	t.Helper()
	var p Personal
	if err := json.Unmarshal([]byte(vectorPersonal), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func personSubject(commitment string) string {
	return `{"kind":"person","commitment":"` + commitment + `"}`
}

func TestPersonSidecar(t *testing.T) {
	good := vectorPersonalValue(t)
	for _, typ := range []string{TypeRecordCreate, TypeReportSubmit} {
		raw := with(t, typ, "subject", personSubject(vectorEd25519Commitment))
		if err := check(t, typ, raw, good); err != nil {
			t.Fatalf("%s with matching sidecar: %v", typ, err)
		}
	}

	raw := with(t, TypeRecordCreate, "subject", personSubject(vectorEd25519Commitment))
	mutate := func(f func(p *Personal)) *Personal {
		p := *good
		f(&p)
		return &p
	}
	cases := []struct {
		name     string
		raw      string
		personal *Personal
		code     string
		msg      string
	}{
		{"missing sidecar", raw, nil, "malformed", "personal: missing"},
		{"sidecar beside organization", validPayloads[TypeRecordCreate], good, "malformed", "organization"},
		{"sidecar on other types", validPayloads[TypeRecordExit], good, "malformed", "personal"},
		{"other name", raw, mutate(func(p *Personal) { p.Name = "李四" }), "commitment_mismatch", "personal"},
		{"other salt", raw, mutate(func(p *Personal) { p.Salt = strings.Repeat("0", 64) }), "commitment_mismatch", "personal"},
		{"bad citizen id", raw, mutate(func(p *Personal) { p.IDNumber = "110105194912310021" }), "invalid_citizen_id", "personal.id_number"},
		{"lowercase x", raw, mutate(func(p *Personal) { p.IDNumber = "11010519491231002x" }), "invalid_citizen_id", "personal.id_number"},
		{"future birth", raw, mutate(func(p *Personal) { p.IDNumber = futureCitizenID(t) }), "invalid_citizen_id", "personal.id_number"},
		{"short salt", raw, mutate(func(p *Personal) { p.Salt = "00" }), "malformed", "personal.salt"},
		{"upper salt", raw, mutate(func(p *Personal) { p.Salt = strings.ToUpper(p.Salt) }), "malformed", "personal.salt"},
		{"empty name", raw, mutate(func(p *Personal) { p.Name = "" }), "malformed", "personal.name"},
		{"person with name", with(t, TypeRecordCreate, "subject", `{"kind":"person","commitment":"`+vectorEd25519Commitment+`","name":"张三"}`), good, "malformed", "payload.subject"},
		{"person with uscc", with(t, TypeRecordCreate, "subject", `{"kind":"person","commitment":"`+vectorEd25519Commitment+`","uscc":"91350200776049653A"}`), good, "malformed", "payload.subject"},
		{"person bad commitment", with(t, TypeRecordCreate, "subject", personSubject("xyz")), good, "malformed", "payload.subject.commitment"},
		{"sm2 commitment under ed25519", with(t, TypeRecordCreate, "subject", personSubject(vectorSM2Commitment)), good, "commitment_mismatch", "personal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(t, TypeRecordCreate, c.raw, c.personal)
			if c.raw == validPayloads[TypeRecordExit] {
				err = check(t, TypeRecordExit, c.raw, c.personal)
			}
			if err == nil {
				t.Fatalf("accepted; want %s", c.code)
			}
			if err.Status != 400 || err.Code != c.code || !strings.Contains(err.Message, c.msg) {
				t.Fatalf("got %d %s %q; want %s mentioning %q", err.Status, err.Code, err.Message, c.code, c.msg)
			}
		})
	}
}

// futureCitizenID is a well-formed ID born the day after testNow.
func futureCitizenID(t *testing.T) string {
	t.Helper()
	first17 := "110105" + testNow.AddDate(0, 0, 1).Format("20060102") + "002"
	return first17 + string(citizenCheck(first17))
}

func citizenCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * ((1 << (17 - i)) % 11)
	}
	return "10X98765432"[sum%11]
}

func TestValidateWithSuite(t *testing.T) {
	s, _ := suite.ByName(suite.SM2)
	raw := with(t, TypeRecordCreate, "subject", personSubject(vectorSM2Commitment))
	e := &Envelope{Chain: "c", Type: TypeRecordCreate, Submitter: vectorUSCC, Nonce: "Zq3xT8vN2mK7pL4wR9sB6yHc",
		CreatedAt: "2026-11-25T08:00:00Z", Payload: json.RawMessage(raw)}
	p, err := DecodePayload(TypeRecordCreate, e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if aerr := ValidateWith(s, e, p, vectorPersonalValue(t), testNow); aerr != nil {
		t.Fatal(aerr)
	}
	// Unsigned, Validate cannot know the suite of the commitment.
	if aerr := Validate(e, p, vectorPersonalValue(t), testNow); aerr == nil || !strings.Contains(aerr.Message, "tx.sig") {
		t.Fatalf("got %v", aerr)
	}
}

func TestSubjectCode(t *testing.T) {
	if c := (Subject{Kind: SubjectOrganization, USCC: vectorUSCC, Name: "x"}).Code(); c != vectorUSCC {
		t.Errorf("organization code %q", c)
	}
	if c := (Subject{Kind: SubjectPerson, Commitment: h64}).Code(); c != h64 {
		t.Errorf("person code %q", c)
	}
}

func TestDecodePersonal(t *testing.T) {
	p, err := DecodePersonal([]byte(vectorPersonal))
	if err != nil || *p != *vectorPersonalValue(t) {
		t.Fatalf("%+v %v", p, err)
	}
	for in, msg := range map[string]string{
		`{"name":"a","id_number":"b"}`:                       "personal.salt: missing member",
		`{"name":"a","id_number":"b","salt":"c","x":1}`:      `personal: unknown member "x"`,
		`{"name":null,"id_number":"b","salt":"c"}`:           "personal.name: must not be null",
		`{"name":"a","name":"b","id_number":"b","salt":"c"}`: "Duplicate key",
		`[]`: "personal: must be an object",
	} {
		_, err := DecodePersonal([]byte(in))
		wantMalformed(t, err, msg)
	}
}
