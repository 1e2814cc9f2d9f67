package ids_test

import (
	"strings"
	"time"
)

// Independent re-implementations of the two checksums, written from the
// standards' formulas rather than shared with the package, so a mistake in
// one is caught by the other.

const testUSCCAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func refUSCCCheck(first17 string) byte {
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(testUSCCAlphabet, first17[i]) * w
		w = w * 3 % 31
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return testUSCCAlphabet[c]
}

func refOrgCheck(body8 string) byte {
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		v := int(body8[i] - '0')
		if body8[i] >= 'A' {
			v = int(body8[i]-'A') + 10
		}
		sum += v * w
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

func refCitizenCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// gb32100Pairs is table 1 of GB 32100 written out as the valid first-two-
// character prefixes.
var gb32100Pairs = []string{
	"11", "12", "13", "19",
	"21", "29",
	"31", "32", "33", "34", "35", "39",
	"41", "49",
	"51", "52", "53", "59",
	"61", "62", "69",
	"71", "72", "79",
	"81", "89",
	"91", "92", "93",
	"A1", "A9",
	"N1", "N2", "N3", "N9",
	"Y1",
}

// todayCST is the calendar date of now in China Standard Time.
func todayCST(t time.Time) time.Time {
	y, m, d := t.In(time.FixedZone("CST", 8*3600)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
