package ids_test

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/creditchain/creditchain/pkg/ids"
)

func genUSCC() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		prefix := rapid.SampledFrom(gb32100Pairs).Draw(t, "prefix")
		region := rapid.StringMatching(`[0-9]{6}`).Draw(t, "region")
		body := rapid.StringMatching(`[0-9ABCDEFGHJKLMNPQRTUWXY]{8}`).Draw(t, "org")
		first17 := prefix + region + body + string(refOrgCheck(body))
		return first17 + string(refUSCCCheck(first17))
	})
}

func genCitizenID(now time.Time) *rapid.Generator[string] {
	first := time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	days := int(todayCST(now).Sub(first).Hours() / 24)
	return rapid.Custom(func(t *rapid.T) string {
		region := rapid.StringMatching(`[1-8][0-9]{5}`).Draw(t, "region")
		birth := first.AddDate(0, 0, rapid.IntRange(0, days).Draw(t, "day"))
		seq := rapid.StringMatching(`[0-9]{3}`).Draw(t, "seq")
		first17 := region + birth.Format("20060102") + seq
		return first17 + string(refCitizenCheck(first17))
	})
}

// mutate replaces one character of code with a different one drawn from
// alphabet, returning the result.
func mutate(t *rapid.T, code, alphabet string) string {
	r := []rune(code)
	i := rapid.IntRange(0, len(r)-1).Draw(t, "pos")
	choices := []rune{}
	for _, c := range alphabet {
		if c != r[i] {
			choices = append(choices, c)
		}
	}
	r[i] = rapid.SampledFrom(choices).Draw(t, "char")
	return string(r)
}

func TestPropertyUSCC(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		code := genUSCC().Draw(t, "code")
		if err := ids.CheckUSCC(code); err != nil {
			t.Fatalf("generated code %s rejected: %v", code, err)
		}
		if kinds, err := ids.Classify(code, now); err != nil || !slices.Contains(kinds, ids.Organization) {
			t.Fatalf("Classify(%s) = %v, %v", code, kinds, err)
		}
		bad := mutate(t, code, testUSCCAlphabet+"aIOSVZ x统-")
		if err := ids.CheckUSCC(bad); err == nil {
			t.Fatalf("single-character change %s → %s still valid", code, bad)
		}
	})
}

func TestPropertyCitizenID(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		code := genCitizenID(now).Draw(t, "code")
		if err := ids.CheckCitizenID(code, now); err != nil {
			t.Fatalf("generated ID %s rejected: %v", code, err)
		}
		if kinds, err := ids.Classify(code, now); err != nil || !slices.Contains(kinds, ids.Person) {
			t.Fatalf("Classify(%s) = %v, %v", code, kinds, err)
		}
		if m := ids.MaskID(code); m != code[:6]+"********"+code[14:] {
			t.Fatalf("MaskID(%s) = %s", code, m)
		}
		bad := mutate(t, code, "0123456789XxA ")
		if err := ids.CheckCitizenID(bad, now); err == nil {
			t.Fatalf("single-character change %s → %s still valid", code, bad)
		}
	})
}
