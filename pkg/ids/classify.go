package ids

import (
	"errors"
	"time"
	"unicode/utf8"
)

// Kind is the kind of subject a code identifies.
type Kind string

// Subject kinds, as written in a subject's "kind" member.
const (
	Organization Kind = "organization"
	Person       Kind = "person"
)

// Classify returns the kinds a code is valid for, in the order organization,
// person; a code can be valid under both schemes and is then looked up under
// both. It uses the default legacy allow-list.
func Classify(code string, now time.Time) ([]Kind, error) {
	return ClassifyWith(code, now, DefaultLegacyList())
}

// ClassifyWith is Classify with an explicit legacy allow-list.
//
// When the code is valid under neither scheme the returned *Error is the one
// from the scheme the code most resembles, so the message helps its author:
//   - a code that is not all digits but for its last character cannot be a
//     citizen ID: it gets the USCC reason (this includes "");
//   - an all-digit code of the wrong length gets the citizen-ID reason;
//   - an 18-character all-digit code gets the citizen-ID reason when
//     characters 7-14 form a calendar date (strong evidence: few digit
//     strings do), else the USCC reason when its first two characters are a
//     registration authority and organization category of GB 32100 table 1
//     (a digit-only USCC with a typo), else the citizen-ID reason.
func ClassifyWith(code string, now time.Time, legacy LegacyList) ([]Kind, error) {
	usccErr := CheckUSCCWith(code, legacy)
	citizenErr := CheckCitizenID(code, now)
	var kinds []Kind
	if usccErr == nil {
		kinds = append(kinds, Organization)
	}
	if citizenErr == nil {
		kinds = append(kinds, Person)
	}
	if len(kinds) > 0 {
		return kinds, nil
	}
	if preferCitizenError(code) {
		return nil, citizenErr
	}
	return nil, usccErr
}

func preferCitizenError(code string) bool {
	if !looksNumeric(code) {
		return false
	}
	if utf8.RuneCountInString(code) != citizenLen {
		return true
	}
	// looksNumeric and 18 characters: the first 17 bytes are ASCII digits.
	if isCalendarDate(code[6:14]) {
		return true
	}
	// Only the prefix matters here: the region is digits already, and the
	// organization code is what a USCC typo most likely broke.
	var e *Error
	if errors.As(checkUSCCStructure(code[:usccLen-1]+"0"), &e) {
		return e.Reason == ReasonRegistrationAuthority || e.Reason == ReasonOrganizationCategory
	}
	return false
}

// looksNumeric reports whether every character of code but the last is a
// digit, the shape of a citizen ID (whatever its length or check character).
func looksNumeric(code string) bool {
	_, size := utf8.DecodeLastRuneInString(code)
	return len(code) > size && allDigits(code[:len(code)-size])
}
