package txn

import (
	"fmt"
	"reflect"
	"regexp"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/suite"
)

// payload is implemented by every payload struct: its stateless field checks.
type payload interface {
	validate(v *validator)
}

// Validate runs the stateless checks of a decoded envelope, its decoded
// payload p (as DecodePayload returns it) and the optional person sidecar,
// at time now (citizen ID birth dates must not be in the future). The
// crypto suite of a person's commitment is the one the signature names; use
// ValidateWith for an envelope that is not signed yet.
//
// Codes: invalid_uscc for organization subjects and member ids,
// invalid_citizen_id for the sidecar's id number, commitment_mismatch for a
// sidecar that does not open the commitment, malformed for everything else.
// Checks that need membership or ledger state are not made here.
func Validate(e *Envelope, p any, personal *Personal, now time.Time) *apierr.Error {
	var s suite.Suite
	if e != nil && e.Sig != nil {
		s, _ = suite.ByName(e.Sig.Alg)
	}
	return ValidateWith(s, e, p, personal, now)
}

// ValidateWith is Validate with the suite given explicitly.
func ValidateWith(s suite.Suite, e *Envelope, p any, personal *Personal, now time.Time) *apierr.Error {
	if e == nil {
		return apierr.Malformed("tx: missing")
	}
	if err := checkEnvelope(e, "tx"); err != nil {
		return err
	}
	pl, ok := p.(payload)
	if !ok || reflect.TypeOf(p) != reflect.TypeOf(payloadTypes[e.Type]()) {
		return apierr.Malformed("payload: a %T is not the payload of %s", p, e.Type)
	}
	v := &validator{now: now}
	pl.validate(v)
	if v.err != nil {
		return v.err
	}
	return checkPersonal(s, subjectOf(p), personal, now)
}

// subjectOf returns the subject of payloads that have one.
func subjectOf(p any) *Subject {
	switch p := p.(type) {
	case *ReportSubmit:
		return &p.Subject
	case *RecordCreate:
		return &p.Subject
	}
	return nil
}

// checkPersonal checks the sidecar against the subject it belongs to.
func checkPersonal(s suite.Suite, subj *Subject, personal *Personal, now time.Time) *apierr.Error {
	switch {
	case subj == nil:
		if personal != nil {
			return apierr.Malformed("personal: only a report.submit or record.create about a person carries a sidecar")
		}
		return nil
	case subj.Kind != SubjectPerson:
		if personal != nil {
			return apierr.Malformed("personal: not allowed beside an organization subject")
		}
		return nil
	case personal == nil:
		return apierr.Malformed("personal: missing; a person subject needs its sidecar")
	}
	if personal.Name == "" {
		return apierr.Malformed("personal.name: empty")
	}
	if !hex64Pattern.MatchString(personal.Salt) {
		return apierr.Malformed("personal.salt: want 64 lowercase hex characters")
	}
	if err := ids.CheckCitizenID(personal.IDNumber, now); err != nil {
		return apierr.New(400, "invalid_citizen_id", "personal.id_number: %v", err)
	}
	if s == nil {
		return apierr.Malformed("tx.sig: needed to know the crypto suite of the commitment")
	}
	c, err := Commitment(s, personal)
	if err != nil {
		return apierr.Malformed("personal: %v", err)
	}
	if c != subj.Commitment {
		return apierr.New(400, "commitment_mismatch", "personal: the sidecar does not match payload.subject.commitment")
	}
	return nil
}

var hex64Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validator records the first failed check.
type validator struct {
	now time.Time
	err *apierr.Error
}

func (v *validator) fail(err *apierr.Error) {
	if v.err == nil {
		v.err = err
	}
}

func (v *validator) malformed(path, format string, args ...any) {
	v.fail(apierr.Malformed("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *validator) nonEmpty(path, s string) {
	if s == "" {
		v.malformed(path, "empty")
	}
}

// hash checks a tx id or hash: 64 lowercase hex characters.
func (v *validator) hash(path, s string) {
	if !hex64Pattern.MatchString(s) {
		v.malformed(path, "want 64 lowercase hex characters")
	}
}

func (v *validator) optionalHash(path, s string) {
	if s != "" {
		v.hash(path, s)
	}
}

func (v *validator) hashes(path string, list []string) {
	for i, h := range list {
		v.hash(fmt.Sprintf("%s[%d]", path, i), h)
	}
}

func (v *validator) time(path, s string) {
	if _, err := ParseTime(s); err != nil {
		v.malformed(path, "%v", err)
	}
}

func (v *validator) duration(path, s string) {
	if _, err := ParseDuration(s); err != nil {
		v.malformed(path, "%v", err)
	}
}

func (v *validator) enum(path, s string, allowed ...string) {
	if !oneOf(s, allowed...) {
		v.malformed(path, "%q is not one of %q", s, allowed)
	}
}

func (v *validator) version(path string, n int) {
	if n < 1 {
		v.malformed(path, "want a version number from 1")
	}
}

// strings checks a list of distinct non-empty strings.
func (v *validator) strings(path string, list []string) {
	seen := make(map[string]bool, len(list))
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		v.nonEmpty(p, s)
		if seen[s] {
			v.malformed(p, "duplicate %q", s)
		}
		seen[s] = true
	}
}

func (v *validator) uscc(path, code string) {
	if err := ids.CheckUSCC(code); err != nil {
		v.fail(apierr.New(400, "invalid_uscc", "%s: %v", path, err))
	}
}
