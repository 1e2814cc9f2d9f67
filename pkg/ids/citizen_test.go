package ids_test

import (
	"errors"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ids"
)

// now is 2026-11-25 16:00 in China Standard Time.
var now = time.Date(2026, time.November, 25, 8, 0, 0, 0, time.UTC)

func TestCheckCitizenIDValid(t *testing.T) {
	for _, code := range []string{
		"11010519491231002X", // GB 11643-1999's own example
		"110105200002291235", // 29 February of a leap year
		"11010519000101001X", // the earliest accepted birth date
		"110105199912311236",
		"440306194912310023",
	} {
		if err := ids.CheckCitizenID(code, now); err != nil {
			t.Errorf("CheckCitizenID(%q) = %v, want nil", code, err)
		}
		c, err := ids.CitizenIDCheckChar(code[:17])
		if err != nil || c != code[17] {
			t.Errorf("CitizenIDCheckChar(%q) = %q, %v; want %q", code[:17], c, err, code[17])
		}
	}
}

func TestCheckCitizenIDInvalid(t *testing.T) {
	cases := []struct {
		name, code, reason, message string
	}{
		{"empty", "", ids.ReasonEmpty, "empty: no code given"},
		{"15-digit old format", "110105491231002", ids.ReasonLength, "length: expected 18 characters, got 15"},
		{"19 characters", "11010519491231002X1", ids.ReasonLength, "length: expected 18 characters, got 19"},
		{"letter inside", "1101051949123100A2", ids.ReasonDigits, "digits: 'A' at position 17 is not a digit"},
		{"space", " 1010519491231002X", ids.ReasonDigits, "digits: ' ' at position 1 is not a digit"},
		{"fullwidth digit", "１10105194912310023", ids.ReasonDigits, "digits: '１' at position 1 is not a digit"},
		{"month 13", "110105194913010029", ids.ReasonBirthDate, "birth date: 19491301 is not a real date"},
		{"month 0", "11010519490001002X", ids.ReasonBirthDate, "birth date: 19490001 is not a real date"},
		{"day 0", "110105194912000021", ids.ReasonBirthDate, "birth date: 19491200 is not a real date"},
		{"31 April", "11010519490431002X", ids.ReasonBirthDate, "birth date: 19490431 is not a real date"},
		{"1900 not leap", "110105190002290017", ids.ReasonBirthDate, "birth date: 19000229 is not a real date"},
		{"before 1900", "110105189912310015", ids.ReasonBirthDate, "birth date: 1899-12-31 is before 1900-01-01"},
		{"future", "110105202701010016", ids.ReasonBirthDate, "birth date: 2027-01-01 is after today (2026-11-25, China Standard Time)"},
		{"check character", "110105194912310021", ids.ReasonCheckCharacter, "check character: expected 'X', got '1'"},
		{"lowercase x", "11010519491231002x", ids.ReasonCheckCharacter, "check character: expected 'X', got lowercase 'x'; write it in uppercase"},
		{"letter check", "11010519491231002Y", ids.ReasonCheckCharacter, "check character: expected 'X', got 'Y'"},
		{"multibyte check", "11010519491231002Ｘ", ids.ReasonCheckCharacter, "check character: expected 'X', got 'Ｘ'"},
		{"X where digit due", "11010519491231001X", ids.ReasonCheckCharacter, "check character: expected '1', got 'X'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ids.CheckCitizenID(tc.code, now)
			var e *ids.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckCitizenID(%q) = %v, want *ids.Error", tc.code, err)
			}
			if e.Kind != ids.SchemeCitizenID || e.Reason != tc.reason || e.Message != tc.message {
				t.Errorf("CheckCitizenID(%q) = {%s %s %q}, want {citizen_id %s %q}", tc.code, e.Kind, e.Reason, e.Message, tc.reason, tc.message)
			}
			if got, want := err.Error(), "invalid citizen ID: "+tc.message; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

// The birth date is compared with today in China Standard Time, which starts
// at 16:00 UTC the day before.
func TestCheckCitizenIDTodayInChinaStandardTime(t *testing.T) {
	const bornOn26 = "110105202611260011" // born 2026-11-26
	cases := []struct {
		now   time.Time
		valid bool
	}{
		{time.Date(2026, time.November, 25, 15, 59, 59, 0, time.UTC), false},
		{time.Date(2026, time.November, 25, 16, 0, 0, 0, time.UTC), true},
		// The same instant expressed in another zone must give the same answer.
		{time.Date(2026, time.November, 25, 11, 0, 0, 0, time.FixedZone("EST", -5*3600)), true},
		{time.Date(2026, time.November, 25, 10, 59, 0, 0, time.FixedZone("EST", -5*3600)), false},
	}
	for _, tc := range cases {
		err := ids.CheckCitizenID(bornOn26, tc.now)
		if (err == nil) != tc.valid {
			t.Errorf("at %s: CheckCitizenID = %v, want valid=%v", tc.now, err, tc.valid)
		}
	}
}

func TestCitizenIDCheckCharRejects(t *testing.T) {
	for _, in := range []string{"", "1101051949123100", "110105194912310022", "1101051949123100A", "１１01051949123100"} {
		if c, err := ids.CitizenIDCheckChar(in); err == nil {
			t.Errorf("CitizenIDCheckChar(%q) = %q, nil; want an error", in, c)
		}
	}
}
