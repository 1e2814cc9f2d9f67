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
//   - a code whose first 17 characters are not all digits cannot be a citizen
//     ID, so it gets the USCC reason (this includes "" and most bad lengths);
//   - a code of digits but for its last character gets the citizen-ID
//     reason when its length is wrong or its birth date is real (a real date
//     in characters 7-14 is strong evidence: few digit strings have one);
//   - otherwise an all-digit code gets the USCC reason only if it passed the
//     USCC segment checks up to the organization code (a weaker hint, as most
//     digit pairs are valid authority and category codes), else the
//     citizen-ID reason.
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
	if preferCitizenError(code, asError(usccErr), asError(citizenErr)) {
		return nil, citizenErr
	}
	return nil, usccErr
}

func preferCitizenError(code string, usccErr, citizenErr *Error) bool {
	if !looksNumeric(code) {
		return false
	}
	switch citizenErr.Reason {
	case ReasonLength, ReasonCheckCharacter:
		return true
	}
	switch usccErr.Reason {
	case ReasonOrgCodeCheck, ReasonCheckCharacter:
		return false
	}
	return true
}

// looksNumeric reports whether every character of code but the last is a
// digit, the shape of a citizen ID (whatever its length or check character).
func looksNumeric(code string) bool {
	_, size := utf8.DecodeLastRuneInString(code)
	return len(code) > size && allDigits(code[:len(code)-size])
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// Both checkers only return *Error; reaching here is a programming error
	// and a neutral value keeps the choice well defined.
	return &Error{}
}
