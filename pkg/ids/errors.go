package ids

import "fmt"

// Schemes carried in Error.Kind.
const (
	SchemeUSCC      = "uscc"
	SchemeCitizenID = "citizen_id"
)

// Reasons carried in Error.Reason. They are stable machine words: clients
// branch on them, so they never change once published.
const (
	ReasonEmpty                 = "empty"
	ReasonLength                = "length"
	ReasonAlphabet              = "alphabet"
	ReasonRegistrationAuthority = "registration_authority"
	ReasonOrganizationCategory  = "organization_category"
	ReasonRegion                = "region"
	ReasonOrgCodeCheck          = "org_code_check"
	ReasonCheckCharacter        = "check_character"
	ReasonDigits                = "digits"
	ReasonBirthDate             = "birth_date"
)

// Error is why a code is invalid under one scheme.
type Error struct {
	// Kind is the scheme the code was checked against: "uscc" or "citizen_id".
	Kind string
	// Reason is one of the Reason* words.
	Reason string
	// Message is a human explanation that starts with the failed check, e.g.
	// "check character: expected 'A', got 'B'".
	Message string
}

func (e *Error) Error() string {
	return "invalid " + schemeName(e.Kind) + ": " + e.Message
}

func schemeName(kind string) string {
	switch kind {
	case SchemeUSCC:
		return "USCC"
	case SchemeCitizenID:
		return "citizen ID"
	default:
		return "code"
	}
}

func newError(kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}
