package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/suite"
)

// testNow is the clock of the unit tests: 2026-11-25 in China.
var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// orgCode is the i-th valid USCC of a made-up organization in Xiamen:
// an organization code with its GB 11714 check digit, then the GB 32100
// check character.
func orgCode(t testing.TB, i int) string {
	t.Helper()
	org := fmt.Sprintf("M%07d", i)
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for j, c := range org {
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * weights[j]
	}
	first17 := "91350200" + org + string("0123456789X0"[11-sum%11])
	c, err := ids.USCCCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	code := first17 + string(c)
	if err := ids.CheckUSCC(code); err != nil {
		t.Fatalf("orgCode(%d) = %s: %v", i, code, err)
	}
	return code
}

// citizenID is the i-th valid citizen ID of a made-up person born in
// Xiamen from 1980-01-01 on.
func citizenID(t testing.TB, i int) string {
	t.Helper()
	born := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	body := fmt.Sprintf("350203%s%03d", born.Format("20060102"), i%1000)
	sum := 0
	for j, c := range body {
		sum += int(c-'0') * ((1 << (17 - j)) % 11)
	}
	return body + string("10X98765432"[sum%11])
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testParser is a parser for the court: it may record court-defaulter only.
func testParser(t testing.TB, header []string, m *Mapping) *Parser {
	t.Helper()
	cols, err := Resolve(header, m)
	if err != nil {
		t.Fatalf("resolve %q: %v", header, err)
	}
	s, err := suite.ByName(suite.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return &Parser{Cols: cols, Now: testNow, Institution: "11350200MA0000001X", Categories: []string{"court-defaulter"},
		Suite: s, Chain: "creditchain-test"}
}
