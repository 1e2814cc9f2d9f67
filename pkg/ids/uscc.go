package ids

import (
	"strings"
	"unicode/utf8"
)

// usccAlphabet is GB 32100's character set; a character's value is its index.
// I, O, S, V and Z are left out because they read like 1, 0, 5, U and 2.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

const usccLen = 18

// usccWeights[i] is 3^i mod 31, the weight of the (i+1)-th character.
var usccWeights = func() [usccLen - 1]int {
	var w [usccLen - 1]int
	p := 1
	for i := range w {
		w[i] = p
		p = p * 3 % 31
	}
	return w
}()

// CheckUSCC validates a unified social credit code, accepting codes on the
// package default legacy allow-list (see SetDefaultLegacyList).
func CheckUSCC(code string) error {
	return CheckUSCCWith(code, DefaultLegacyList())
}

// CheckUSCCWith validates a unified social credit code against GB 32100-2015.
// A code on legacy is accepted although its check character is wrong, but
// only that: an allow-listed code must still pass every other check, so the
// list cannot smuggle in malformed codes.
func CheckUSCCWith(code string, legacy LegacyList) error {
	err := checkUSCCStructure(code)
	if err != nil {
		return err
	}
	want, _ := usccCheckValue(code[:usccLen-1])
	if got := code[usccLen-1]; got != want {
		if legacy.Contains(code) {
			return nil
		}
		return newError(SchemeUSCC, ReasonCheckCharacter,
			"check character: expected '%c', got '%c'", want, got)
	}
	return nil
}

// IsLegacyUSCC reports whether code is on the default legacy allow-list.
func IsLegacyUSCC(code string) bool {
	return DefaultLegacyList().Contains(code)
}

// USCCCheckChar returns the check character for the first 17 characters of a
// USCC. It checks only length and alphabet, so tests can build codes that
// are wrong elsewhere on purpose.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != usccLen-1 {
		return 0, newError(SchemeUSCC, ReasonLength,
			"length: expected 17 characters before the check character, got %d", utf8.RuneCountInString(first17))
	}
	if err := checkUSCCAlphabet(first17); err != nil {
		return 0, err
	}
	c, _ := usccCheckValue(first17)
	return c, nil
}

// checkUSCCStructure runs every check but the check character, in the order
// a reader would: shape first, then the meaning of each segment.
func checkUSCCStructure(code string) error {
	if code == "" {
		return newError(SchemeUSCC, ReasonEmpty, "empty: no code given")
	}
	if n := utf8.RuneCountInString(code); n != usccLen {
		return newError(SchemeUSCC, ReasonLength, "length: expected 18 characters, got %d", n)
	}
	if err := checkUSCCAlphabet(code); err != nil {
		return err
	}
	auth, ok := organizationCategories[code[0]]
	if !ok {
		return newError(SchemeUSCC, ReasonRegistrationAuthority,
			"registration authority: '%c' is not one of %s", code[0], authorityCodes)
	}
	if strings.IndexByte(auth.categories, code[1]) < 0 {
		return newError(SchemeUSCC, ReasonOrganizationCategory,
			"organization category: '%c' is not a category of registration authority '%c' (%s); allowed: %s",
			code[1], code[0], auth.name, listChars(auth.categories))
	}
	if region := code[2:8]; !allDigits(region) {
		return newError(SchemeUSCC, ReasonRegion, "region: characters 3-8 must be 6 digits, got %q", region)
	}
	if err := checkOrgCode(code[8:17]); err != nil {
		return err
	}
	return nil
}

// checkUSCCAlphabet reports the first character outside the alphabet, with
// its 1-based position, naming lowercase letters specially because that is
// the usual mistake.
func checkUSCCAlphabet(s string) error {
	pos := 0
	for _, r := range s {
		pos++
		if r < utf8.RuneSelf && strings.IndexByte(usccAlphabet, byte(r)) >= 0 {
			continue
		}
		if r >= 'a' && r <= 'z' {
			return newError(SchemeUSCC, ReasonAlphabet,
				"alphabet: lowercase %q at position %d; codes are written in uppercase", r, pos)
		}
		return newError(SchemeUSCC, ReasonAlphabet,
			"alphabet: %q at position %d is not in %s", r, pos, usccAlphabet)
	}
	return nil
}

// usccCheckValue computes the check character of 17 characters already known
// to be in the alphabet; ok is false otherwise.
func usccCheckValue(first17 string) (c byte, ok bool) {
	sum := 0
	for i := 0; i < usccLen-1; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func listChars(s string) string {
	parts := make([]string, len(s))
	for i := range parts {
		parts[i] = s[i : i+1]
	}
	return strings.Join(parts, ", ")
}
