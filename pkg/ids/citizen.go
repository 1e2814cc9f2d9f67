package ids

import (
	"time"
	"unicode/utf8"
)

const citizenLen = 18

// citizenCheckChars maps Σ mod 11 to the check character (GB 11643-1999).
const citizenCheckChars = "10X98765432"

// citizenWeights[i] is 2^(17−i) mod 11, the weight of the (i+1)-th digit.
var citizenWeights = func() [citizenLen - 1]int {
	var w [citizenLen - 1]int
	for i := range w {
		w[i] = (1 << (citizenLen - 1 - i)) % 11
	}
	return w
}()

// chinaStandardTime is UTC+8 without daylight saving, fixed in code rather
// than loaded from the tz database so results never depend on the host.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// earliestBirth is the first birth date the ledger accepts.
var earliestBirth = civilDate{1900, time.January, 1}

// CheckCitizenID validates an 18-character citizen ID number (GB 11643-1999)
// as written: 17 digits, then a digit or uppercase 'X'. The birth date
// (characters 7-14, YYYYMMDD) must be a real date from 1900-01-01 up to today
// in China Standard Time, computed from now.
func CheckCitizenID(code string, now time.Time) error {
	if code == "" {
		return newError(SchemeCitizenID, ReasonEmpty, "empty: no code given")
	}
	if n := utf8.RuneCountInString(code); n != citizenLen {
		return newError(SchemeCitizenID, ReasonLength, "length: expected 18 characters, got %d", n)
	}
	if err := checkDigits(code, citizenLen-1); err != nil {
		return err
	}
	if err := checkBirthDate(code[6:14], now); err != nil {
		return err
	}
	want, _ := citizenCheckValue(code[:citizenLen-1])
	// The last character may be multi-byte, so compare strings, not bytes.
	if last := code[citizenLen-1:]; last != string(want) {
		if last == "x" && want == 'X' {
			return newError(SchemeCitizenID, ReasonCheckCharacter,
				"check character: expected 'X', got lowercase 'x'; write it in uppercase")
		}
		got, _ := utf8.DecodeRuneInString(last)
		return newError(SchemeCitizenID, ReasonCheckCharacter,
			"check character: expected '%c', got %q", want, got)
	}
	return nil
}

// CitizenIDCheckChar returns the check character for the first 17 digits of a
// citizen ID. It does not check the birth date, so tests can build IDs that
// are wrong there on purpose.
func CitizenIDCheckChar(first17 string) (byte, error) {
	if n := utf8.RuneCountInString(first17); n != citizenLen-1 || len(first17) != n {
		return 0, newError(SchemeCitizenID, ReasonLength,
			"length: expected 17 digits before the check character, got %d characters", n)
	}
	if err := checkDigits(first17, citizenLen-1); err != nil {
		return 0, err
	}
	c, _ := citizenCheckValue(first17)
	return c, nil
}

// checkDigits requires the first n characters of s to be ASCII digits. The
// last character of an ID is left to the check-character comparison, which
// explains a wrong one better.
func checkDigits(s string, n int) error {
	pos := 0
	for _, r := range s {
		pos++
		if pos > n {
			break
		}
		if r < '0' || r > '9' {
			return newError(SchemeCitizenID, ReasonDigits,
				"digits: %q at position %d is not a digit", r, pos)
		}
	}
	return nil
}

func checkBirthDate(yyyymmdd string, now time.Time) error {
	birth, ok := parseYYYYMMDD(yyyymmdd)
	if !ok {
		return newError(SchemeCitizenID, ReasonBirthDate, "birth date: %s is not a real date", yyyymmdd)
	}
	if birth.before(earliestBirth) {
		return newError(SchemeCitizenID, ReasonBirthDate, "birth date: %s is before 1900-01-01", birth)
	}
	today := dateOf(now.In(chinaStandardTime))
	if today.before(birth) {
		return newError(SchemeCitizenID, ReasonBirthDate,
			"birth date: %s is after today (%s, China Standard Time)", birth, today)
	}
	return nil
}

// parseYYYYMMDD reads 8 ASCII digits as a date; ok is false unless the date
// exists in the calendar.
func parseYYYYMMDD(s string) (civilDate, bool) {
	if len(s) != 8 || !allDigits(s) {
		return civilDate{}, false
	}
	n := func(from, to int) int {
		v := 0
		for i := from; i < to; i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	c := civilDate{n(0, 4), time.Month(n(4, 6)), n(6, 8)}
	return c, c.real()
}

// isCalendarDate reports whether s is YYYYMMDD of a date that exists, in any
// year.
func isCalendarDate(s string) bool {
	_, ok := parseYYYYMMDD(s)
	return ok
}

// citizenCheckValue computes the check character; ok is false unless all 17
// characters are ASCII digits.
func citizenCheckValue(first17 string) (c byte, ok bool) {
	if len(first17) != citizenLen-1 || !allDigits(first17) {
		return 0, false
	}
	sum := 0
	for i := 0; i < citizenLen-1; i++ {
		sum += int(first17[i]-'0') * citizenWeights[i]
	}
	return citizenCheckChars[sum%11], true
}
