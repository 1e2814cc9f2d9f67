package ids_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

func TestClassifyValid(t *testing.T) {
	cases := []struct {
		code string
		want []ids.Kind
	}{
		{"91350200776049653A", []ids.Kind{ids.Organization}},
		{"11010519491231002X", []ids.Kind{ids.Person}},
		// 机构编制/机关 in region 110000 whose characters 7-14 happen to be
		// the birth date 1985-06-15 and whose two check characters agree.
		{"110000198506151167", []ids.Kind{ids.Organization, ids.Person}},
	}
	for _, tc := range cases {
		got, err := ids.Classify(tc.code, now)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Classify(%q) = %v, %v; want %v", tc.code, got, err, tc.want)
		}
	}
}

func TestClassifyChoosesTheRelevantError(t *testing.T) {
	cases := []struct {
		name, code, kind, reason string
	}{
		{"empty", "", ids.SchemeUSCC, ids.ReasonEmpty},
		{"short letters", "91ABC", ids.SchemeUSCC, ids.ReasonLength},
		{"short digits", "110105491231002", ids.SchemeCitizenID, ids.ReasonLength},
		{"letters inside", "91350200776049653B", ids.SchemeUSCC, ids.ReasonCheckCharacter},
		{"lowercase uscc", "91350100m000100Y43", ids.SchemeUSCC, ids.ReasonAlphabet},
		{"citizen typo", "110105194912310021", ids.SchemeCitizenID, ids.ReasonCheckCharacter},
		{"citizen lowercase x", "11010519491231002x", ids.SchemeCitizenID, ids.ReasonCheckCharacter},
		{"citizen wrong letter", "11010519491231002Y", ids.SchemeCitizenID, ids.ReasonCheckCharacter},
		// All digits, no real birth date, USCC segments fine: a USCC typo.
		{"digit uscc check", "913502007760496531", ids.SchemeUSCC, ids.ReasonCheckCharacter},
		{"digit uscc org code", "913502007760496541", ids.SchemeUSCC, ids.ReasonOrgCodeCheck},
		// A calendar date in characters 7-14 wins, even one in the future.
		{"born tomorrow", "110105202611260011", ids.SchemeCitizenID, ids.ReasonBirthDate},
		// All digits, no real birth date, USCC category impossible.
		{"digits nowhere", "943502007760496531", ids.SchemeCitizenID, ids.ReasonBirthDate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kinds, err := ids.Classify(tc.code, now)
			var e *ids.Error
			if kinds != nil || !errors.As(err, &e) {
				t.Fatalf("Classify(%q) = %v, %v; want no kinds and an *ids.Error", tc.code, kinds, err)
			}
			if e.Kind != tc.kind || e.Reason != tc.reason {
				t.Errorf("Classify(%q) error = %s/%s (%s), want %s/%s", tc.code, e.Kind, e.Reason, e.Message, tc.kind, tc.reason)
			}
		})
	}
}
