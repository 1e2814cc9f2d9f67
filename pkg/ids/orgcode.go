package ids

// orgCodeWeights are GB 11714's weights over the 8-character body of an
// organization code (组织机构代码), characters 9-16 of a USCC.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// checkOrgCode verifies the 9-character organization code embedded at
// positions 9-17 of a USCC: its last character is the GB 11714 check digit.
// The caller has already checked the USCC alphabet, so every character is a
// digit or an uppercase letter.
func checkOrgCode(org string) error {
	want := orgCodeCheckDigit(org[:8])
	if got := org[8]; got != want {
		return newError(SchemeUSCC, ReasonOrgCodeCheck,
			"organization code check digit (position 17): expected '%c', got '%c'", want, got)
	}
	return nil
}

// orgCodeCheckDigit computes C9 = 11 − (Σ Ci·Wi mod 11), written 'X' for 10
// and '0' for 11. Letters count from A=10 to Z=35 over the full Latin
// alphabet, unlike the USCC alphabet which skips letters.
func orgCodeCheckDigit(body string) byte {
	sum := 0
	for i := 0; i < len(orgCodeWeights); i++ {
		sum += orgCodeValue(body[i]) * orgCodeWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

func orgCodeValue(ch byte) int {
	if ch >= '0' && ch <= '9' {
		return int(ch - '0')
	}
	return int(ch-'A') + 10
}
