package ids

import "strings"

const (
	maskKeepHead = 6
	maskKeepTail = 4
	maskMiddle   = "********"
)

// MaskID shows an ID number as its first 6 and last 4 characters around
// eight '*' (110105********002X), the form DESIGN 9.6 fixes for every place a
// person is shown. The middle is always eight stars whatever was hidden, so
// the mask does not leak the length. A value too short to hide anything that
// way (10 characters or fewer) is masked completely.
func MaskID(id string) string {
	r := []rune(id)
	if len(r) <= maskKeepHead+maskKeepTail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:maskKeepHead]) + maskMiddle + string(r[len(r)-maskKeepTail:])
}

// MaskName shows a name as its first character followed by one '*' per
// remaining character: 张* for 张三, 欧** for 欧阳娜. Characters are runes,
// not bytes, so Chinese names are counted as written.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
