package ids_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

// Every possible first-two-character prefix is accepted exactly when it is in
// GB 32100 table 1, and rejected with the right reason otherwise.
func TestGB32100TableExhaustive(t *testing.T) {
	authorities := map[byte]bool{}
	for _, p := range gb32100Pairs {
		authorities[p[0]] = true
	}
	const rest = "350200776049653"
	for i := 0; i < len(testUSCCAlphabet); i++ {
		for j := 0; j < len(testUSCCAlphabet); j++ {
			prefix := string([]byte{testUSCCAlphabet[i], testUSCCAlphabet[j]})
			first17 := prefix + rest
			code := first17 + string(refUSCCCheck(first17))
			err := ids.CheckUSCC(code)
			var e *ids.Error
			switch {
			case slices.Contains(gb32100Pairs, prefix):
				if err != nil {
					t.Errorf("%s: %v, want valid", code, err)
				}
			case !authorities[prefix[0]]:
				if !errors.As(err, &e) || e.Reason != ids.ReasonRegistrationAuthority {
					t.Errorf("%s: %v, want registration_authority", code, err)
				}
			default:
				if !errors.As(err, &e) || e.Reason != ids.ReasonOrganizationCategory {
					t.Errorf("%s: %v, want organization_category", code, err)
				}
			}
		}
	}
	if got := strings.Count(strings.Join(gb32100Pairs, ","), ",") + 1; got != 36 {
		t.Fatalf("reference table has %d pairs, want 36", got)
	}
}
