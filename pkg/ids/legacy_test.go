package ids_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

// pilotCode passes every check but its check character (the valid one ends
// in 'A'), the shape of the early pilot codes the allow-list exists for.
const pilotCode = "91350200776049653B"

func TestLegacyListAcceptsOnlyWrongCheckCharacter(t *testing.T) {
	// Same code with a wrong organization-code check digit as well.
	const brokenElsewhere = "91350200776049654B"
	list := ids.NewLegacyList([]string{pilotCode, brokenElsewhere})
	if err := ids.CheckUSCCWith(pilotCode, list); err != nil {
		t.Errorf("listed pilot code rejected: %v", err)
	}
	var e *ids.Error
	if err := ids.CheckUSCCWith(brokenElsewhere, list); !errors.As(err, &e) || e.Reason != ids.ReasonOrgCodeCheck {
		t.Errorf("listed code with a bad org code check digit: got %v, want org_code_check", err)
	}
	if err := ids.CheckUSCCWith("91350200776049653C", list); !errors.As(err, &e) || e.Reason != ids.ReasonCheckCharacter {
		t.Errorf("unlisted neighbour: got %v, want check_character", err)
	}
	// Comparison is exact: a lowercase spelling of a listed code stays invalid.
	if err := ids.CheckUSCCWith(strings.ToLower(pilotCode), list); err == nil {
		t.Error("lowercase spelling of a listed code accepted")
	}
}

func TestDefaultLegacyListStartsEmptyAndIsConfigurable(t *testing.T) {
	t.Cleanup(func() { ids.SetDefaultLegacyList(ids.LegacyList{}) })
	if n := ids.DefaultLegacyList().Len(); n != 0 {
		t.Fatalf("default legacy list has %d codes, want 0", n)
	}
	if ids.IsLegacyUSCC(pilotCode) || ids.CheckUSCC(pilotCode) == nil {
		t.Fatal("pilot code accepted before being allow-listed")
	}
	ids.SetDefaultLegacyList(ids.NewLegacyList([]string{pilotCode}))
	if !ids.IsLegacyUSCC(pilotCode) {
		t.Error("IsLegacyUSCC false after SetDefaultLegacyList")
	}
	if err := ids.CheckUSCC(pilotCode); err != nil {
		t.Errorf("CheckUSCC(allow-listed) = %v", err)
	}
	kinds, err := ids.Classify(pilotCode, now)
	if err != nil || !slices.Equal(kinds, []ids.Kind{ids.Organization}) {
		t.Errorf("Classify(allow-listed) = %v, %v", kinds, err)
	}
}

func TestParseLegacyList(t *testing.T) {
	text := "# pilot codes issued before the standard\r\n\n  " + pilotCode + "  \r\n91350200776049653A\n"
	list, err := ids.ParseLegacyList(text)
	if err != nil {
		t.Fatalf("ParseLegacyList: %v", err)
	}
	if got, want := list.Codes(), []string{"91350200776049653A", pilotCode}; !slices.Equal(got, want) {
		t.Errorf("Codes() = %v, want %v", got, want)
	}

	_, err = ids.ParseLegacyList(pilotCode + "\n\n9135020077604965\n")
	var e *ids.Error
	if err == nil || !strings.Contains(err.Error(), "line 3") || !errors.As(err, &e) || e.Reason != ids.ReasonLength {
		t.Errorf("malformed entry: got %v, want a length error naming line 3", err)
	}
}
