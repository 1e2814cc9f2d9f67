package ids_test

import (
	"errors"
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

// Published codes (Huawei, Tencent, the GB 32100 explanatory example, ...),
// and codes for each registration authority built with an independent
// implementation of the two check algorithms.
var validUSCCs = []string{
	"91350200776049653A", // the example in DESIGN 9.6
	"914403001922038216",
	"91440300708461136T",
	"91330100799655058B",
	"91110000100011743X",
	"91350100M000100Y43",
	"911100007109310534",
	"A1110000MA00000151", // 中央军委改革和编制办公室, 军队事业单位
	"N23301001234567880", // 农业, 村级集体经济组织
	"Y1440300000000019M", // 其他
	"35350200D2143569X9", // 司法行政, 仲裁委员会; org code check digit X
	"591100005000000078", // 民政, 其他
	"1210000040000000XN", // 机构编制, 事业单位
	"91110000000000000E", // org code check 11 → '0'
	"913502000000001740", // check character 31 → '0'
}

func TestCheckUSCCValid(t *testing.T) {
	for _, code := range validUSCCs {
		if err := ids.CheckUSCC(code); err != nil {
			t.Errorf("CheckUSCC(%q) = %v, want nil", code, err)
		}
		c, err := ids.USCCCheckChar(code[:17])
		if err != nil || c != code[17] {
			t.Errorf("USCCCheckChar(%q) = %q, %v; want %q", code[:17], c, err, code[17])
		}
	}
}

func TestCheckUSCCInvalid(t *testing.T) {
	cases := []struct {
		name, code, reason, message string
	}{
		{"empty", "", ids.ReasonEmpty, "empty: no code given"},
		{"short", "91350200776049653", ids.ReasonLength, "length: expected 18 characters, got 17"},
		{"long", "91350200776049653AA", ids.ReasonLength, "length: expected 18 characters, got 19"},
		{"chinese counts runes", "91350200776049653统", ids.ReasonAlphabet, "alphabet: '统' at position 18 is not in 0123456789ABCDEFGHJKLMNPQRTUWXY"},
		{"lowercase", "91350200776049653a", ids.ReasonAlphabet, "alphabet: lowercase 'a' at position 18; codes are written in uppercase"},
		{"letter I", "9135020077604965I3", ids.ReasonAlphabet, "alphabet: 'I' at position 17 is not in 0123456789ABCDEFGHJKLMNPQRTUWXY"},
		{"letter O", "91350100M0001O0Y43", ids.ReasonAlphabet, "alphabet: 'O' at position 14 is not in 0123456789ABCDEFGHJKLMNPQRTUWXY"},
		{"space", "9135020077604965 A", ids.ReasonAlphabet, "alphabet: ' ' at position 17 is not in 0123456789ABCDEFGHJKLMNPQRTUWXY"},
		{"authority 0", "01350200776049653A", ids.ReasonRegistrationAuthority, "registration authority: '0' is not one of 1-9, A, N, Y"},
		{"authority B", "B1350200776049653A", ids.ReasonRegistrationAuthority, "registration authority: 'B' is not one of 1-9, A, N, Y"},
		{"工商 has no 9", "99350200776049653A", ids.ReasonOrganizationCategory, "organization category: '9' is not a category of registration authority '9' (工商); allowed: 1, 2, 3"},
		{"机构编制 has no 4", "14350200776049653A", ids.ReasonOrganizationCategory, "organization category: '4' is not a category of registration authority '1' (机构编制); allowed: 1, 2, 3, 9"},
		{"其他 only 1", "Y2350200776049653A", ids.ReasonOrganizationCategory, "organization category: '2' is not a category of registration authority 'Y' (其他); allowed: 1"},
		{"letter category", "9A350200776049653A", ids.ReasonOrganizationCategory, "organization category: 'A' is not a category of registration authority '9' (工商); allowed: 1, 2, 3"},
		{"region letter", "9135A200776049653A", ids.ReasonRegion, `region: characters 3-8 must be 6 digits, got "35A200"`},
		{"org code check", "91350200776049654A", ids.ReasonOrgCodeCheck, "organization code check digit (position 17): expected '3', got '4'"},
		{"org code check letter", "9135020077604965XA", ids.ReasonOrgCodeCheck, "organization code check digit (position 17): expected '3', got 'X'"},
		{"org code body changed", "91350200776049663A", ids.ReasonOrgCodeCheck, "organization code check digit (position 17): expected '1', got '3'"},
		{"check character", "91350200776049653B", ids.ReasonCheckCharacter, "check character: expected 'A', got 'B'"},
		{"check character zero", "913502000000001741", ids.ReasonCheckCharacter, "check character: expected '0', got '1'"},
		{"swapped region digits", "91530200776049653A", ids.ReasonCheckCharacter, "check character: expected 'F', got 'A'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ids.CheckUSCC(tc.code)
			var e *ids.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckUSCC(%q) = %v, want *ids.Error", tc.code, err)
			}
			if e.Kind != ids.SchemeUSCC || e.Reason != tc.reason || e.Message != tc.message {
				t.Errorf("CheckUSCC(%q) = {%s %s %q}, want {uscc %s %q}", tc.code, e.Kind, e.Reason, e.Message, tc.reason, tc.message)
			}
			if got, want := err.Error(), "invalid USCC: "+tc.message; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestUSCCCheckCharRejects(t *testing.T) {
	for _, in := range []string{"", "9135020077604965", "913502007760496533", "9135020077604965i"} {
		if c, err := ids.USCCCheckChar(in); err == nil {
			t.Errorf("USCCCheckChar(%q) = %q, nil; want an error", in, c)
		}
	}
}
