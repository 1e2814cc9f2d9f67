package txn

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The fuzz targets check that decoding never panics and that what decodes is
// stable: its canonical form decodes again to the same canonical form.

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(vectorEnvelope))
	f.Add([]byte(vectorEd25519Canonical))
	f.Add([]byte(`{"chain":"a","chain":"b"}`))
	f.Add([]byte(`{"chain":"x","type":"record.purge","submitter":"s","nonce":"0123456789abcdef","created_at":"2026-01-01T00:00:00Z","payload":{"record_id":1e2}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEnvelope(data)
		if err != nil {
			if e != nil {
				t.Fatal("envelope returned with an error")
			}
			return
		}
		c, err := e.Canonical()
		if err != nil {
			t.Fatalf("decoded envelope does not canonicalize: %v", err)
		}
		e2, err := DecodeEnvelope(c)
		if err != nil {
			t.Fatalf("canonical form %s does not decode: %v", c, err)
		}
		c2, err := e2.Canonical()
		if err != nil || string(c) != string(c2) {
			t.Fatalf("canonical form not stable:\n%s\n%s", c, c2)
		}
		if _, err := e.SigningBytes(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecodeSubmission(f *testing.F) {
	f.Add([]byte(`{"tx":` + vectorEd25519Canonical + `}`))
	f.Add([]byte(`{"tx":` + vectorEd25519Canonical + `,"personal":` + vectorPersonal + `}`))
	f.Add([]byte(`{"tx":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSubmission(data)
		if err != nil {
			return
		}
		if s.Tx == nil || s.Tx.Sig == nil || s.Payload == nil {
			t.Fatalf("incomplete submission decoded: %+v", s)
		}
		b, merr := json.Marshal(s)
		if merr != nil {
			t.Fatal(merr)
		}
		s2, err := DecodeSubmission(b)
		if err != nil {
			t.Fatalf("re-encoded submission %s does not decode: %v", b, err)
		}
		c1, _ := s.Tx.Canonical()
		c2, _ := s2.Tx.Canonical()
		if string(c1) != string(c2) {
			t.Fatalf("envelope changed on re-encoding:\n%s\n%s", c1, c2)
		}
		// Validation must not panic on anything that decodes.
		_ = Validate(s.Tx, s.Payload, s.Personal, testNow)
	})
}

func FuzzDecodePayload(f *testing.F) {
	for i, typ := range Types {
		f.Add(uint8(i), []byte(validPayloads[typ]))
	}
	f.Add(uint8(1), []byte(`{"subject":{"kind":"person","commitment":"00"},"measures":[null]}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := Types[int(which)%len(Types)]
		p, err := DecodePayload(typ, data)
		if err != nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := DecodePayload(typ, b)
		if err != nil {
			t.Fatalf("re-encoded payload %s does not decode: %v", b, err)
		}
		b2, _ := json.Marshal(p2)
		if string(b) != string(b2) {
			t.Fatalf("payload not stable:\n%s\n%s", b, b2)
		}
		e := &Envelope{Chain: "c", Type: typ, Submitter: vectorUSCC, Nonce: "0123456789abcdef",
			CreatedAt: "2026-11-25T08:00:00Z", Payload: data}
		_ = ValidateWith(nil, e, p, nil, testNow)
	})
}

// FuzzDecodeStrictAgreesWithEncodingJSON: whatever the strict decoder
// accepts, encoding/json decodes to the same Go value (it was the decoder
// before, after the same shape checks).
func FuzzDecodeStrictAgreesWithEncodingJSON(f *testing.F) {
	for i, typ := range Types {
		f.Add(uint8(i), []byte(validPayloads[typ]))
	}
	f.Add(uint8(len(Types)), []byte(vectorEd25519Canonical))
	f.Add(uint8(len(Types)+1), []byte(`{"tx":`+vectorEd25519Canonical+`,"personal":`+vectorPersonal+`}`))
	f.Add(uint8(0), []byte(`{"a\u0041":"\u00e9\n\"x\\"}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		kinds := len(Types) + 2
		var mk func() any
		switch k := int(which) % kinds; {
		case k < len(Types):
			mk = payloadTypes[Types[k]]
		case k == len(Types):
			mk = func() any { return new(Envelope) }
		default:
			mk = func() any { return new(Submission) }
		}
		c, aerr := canonicalize(data, "body")
		if aerr != nil {
			return
		}
		ours := mk()
		if decodeStrict(c, ours, "body") != nil {
			return
		}
		theirs := mk()
		if err := json.Unmarshal(c, theirs); err != nil {
			t.Fatalf("strict decoder accepted %s, encoding/json refuses it: %v", c, err)
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("%s decodes differently:\nstrict        %+v\nencoding/json %+v", c, ours, theirs)
		}
	})
}
