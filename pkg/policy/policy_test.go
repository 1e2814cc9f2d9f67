package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

const validPolicyJSON = `{"id": "court-defaulter", "version": 2,
 "eligible": "now >= record.start", "due": "record.start",
 "purge_after": "P5Y", "description": "测试 test"}`

func TestDecodeValid(t *testing.T) {
	p, err := Decode([]byte(validPolicyJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{ID: "court-defaulter", Version: 2, Eligible: "now >= record.start",
		Due: "record.start", PurgeAfter: "P5Y", Description: "测试 test"}
	if *p != want {
		t.Fatalf("Decode = %+v, want %+v", *p, want)
	}
}

func TestDecodeBuiltinsRoundTrip(t *testing.T) {
	for _, p := range Builtins() {
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		if *got != *p {
			t.Fatalf("%s: round trip changed the policy", p.ID)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(validPolicyJSON, old, new, 1) }
	cases := map[string]string{
		"unknown member":    replace(`"version": 2,`, `"version": 2, "author": "x",`),
		"repeated member":   replace(`"version": 2,`, `"version": 2, "version": 3,`),
		"missing member":    replace(`"description": "测试 test"`, `"purge_after": "P1Y"`),
		"null string":       replace(`"due": "record.start"`, `"due": null`),
		"null version":      replace(`"version": 2`, `"version": null`),
		"string version":    replace(`"version": 2`, `"version": "2"`),
		"fractional":        replace(`"version": 2`, `"version": 2.0`),
		"exponent":          replace(`"version": 2`, `"version": 2e0`),
		"zero version":      replace(`"version": 2`, `"version": 0`),
		"negative version":  replace(`"version": 2`, `"version": -1`),
		"huge version":      replace(`"version": 2`, `"version": 99999999999999999999`),
		"bad purge_after":   replace(`"P5Y"`, `"5 years"`),
		"bad id":            replace(`"court-defaulter"`, `"Court Defaulter"`),
		"empty eligible":    replace(`"now >= record.start"`, `""`),
		"empty description": replace(`"测试 test"`, `""`),
		"array value":       replace(`"record.start"`, `["record.start"]`),
		"object value":      replace(`"P5Y"`, `{"y": 5}`),
		"trailing data":     validPolicyJSON + ` {}`,
		"trailing garbage":  validPolicyJSON + `x`,
		"not an object":     `["id"]`,
		"empty":             ``,
		"truncated":         validPolicyJSON[:40],
		"invalid utf-8":     replace(`测试`, "\xff"),
	}
	for name, in := range cases {
		if p, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: Decode accepted %q as %+v", name, in, p)
		}
	}
}

func TestDecodeErrorNamesMember(t *testing.T) {
	_, err := Decode([]byte(strings.Replace(validPolicyJSON, `"version": 2,`, `"version": 2, "author": "x",`, 1)))
	if err == nil || !strings.Contains(err.Error(), "author") {
		t.Fatalf("error %v does not name the unknown member", err)
	}
}
