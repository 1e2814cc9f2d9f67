package ids_test

import (
	"errors"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditchain/creditchain/pkg/ids"
)

var knownReasons = []string{
	ids.ReasonEmpty, ids.ReasonLength, ids.ReasonAlphabet, ids.ReasonRegistrationAuthority,
	ids.ReasonOrganizationCategory, ids.ReasonRegion, ids.ReasonOrgCodeCheck,
	ids.ReasonCheckCharacter, ids.ReasonDigits, ids.ReasonBirthDate,
}

func checkIDError(t *testing.T, err error, kind string) {
	t.Helper()
	var e *ids.Error
	if !errors.As(err, &e) || e.Kind != kind || !slices.Contains(knownReasons, e.Reason) || e.Message == "" {
		t.Fatalf("malformed error %#v", err)
	}
}

func FuzzCheckUSCC(f *testing.F) {
	for _, c := range validUSCCs {
		f.Add(c)
	}
	for _, c := range []string{"", "91350200776049653B", "91350200776049653a", "9135020077604965统", "\xff\xfe"} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, code string) {
		err := ids.CheckUSCC(code)
		if err != nil {
			checkIDError(t, err, ids.SchemeUSCC)
			return
		}
		if len(code) != 18 {
			t.Fatalf("accepted %q of %d bytes", code, len(code))
		}
		if again := ids.CheckUSCC(code); again != nil {
			t.Fatalf("re-check of %q failed: %v", code, again)
		}
		if c, err := ids.USCCCheckChar(code[:17]); err != nil || c != code[17] || c != refUSCCCheck(code[:17]) {
			t.Fatalf("accepted %q but check character is %q (%v)", code, c, err)
		}
		if refOrgCheck(code[8:16]) != code[16] {
			t.Fatalf("accepted %q with a wrong organization code check digit", code)
		}
	})
}

func FuzzCheckCitizenID(f *testing.F) {
	base := now.Unix()
	for _, c := range []string{"11010519491231002X", "110105194912310021", "11010519491231002x", "", "110105202611260011", "１10105194912310023"} {
		f.Add(c, base)
	}
	f.Fuzz(func(t *testing.T, code string, unix int64) {
		at := time.Unix(unix, 0)
		_ = ids.MaskID(code)
		if _, err := ids.Classify(code, at); err != nil {
			var e *ids.Error
			if !errors.As(err, &e) {
				t.Fatalf("Classify(%q) returned %T", code, err)
			}
		}
		err := ids.CheckCitizenID(code, at)
		if err != nil {
			checkIDError(t, err, ids.SchemeCitizenID)
			return
		}
		if len(code) != 18 || !utf8.ValidString(code) {
			t.Fatalf("accepted %q", code)
		}
		if again := ids.CheckCitizenID(code, at); again != nil {
			t.Fatalf("re-check of %q failed: %v", code, again)
		}
		if c := refCitizenCheck(code[:17]); c != code[17] {
			t.Fatalf("accepted %q, check character should be %q", code, c)
		}
		birth, perr := time.Parse("20060102", code[6:14])
		if perr != nil || birth.Year() < 1900 || birth.After(todayCST(at)) {
			t.Fatalf("accepted %q with birth date %s (%v) at %s", code, code[6:14], perr, at)
		}
	})
}
