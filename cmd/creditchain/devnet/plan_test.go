package devnet

import (
	"testing"

	"github.com/creditchain/creditchain/pkg/ids"
)

func TestDevUSCCValidAndDistinct(t *testing.T) {
	seen := map[string]int{}
	for _, i := range []int{0, 1, 2, 30, 31, 999, 1000, 123456, 9_281_409, 27_000_000_000 - 1} {
		c, err := DevUSCC(i)
		if err != nil {
			t.Fatalf("DevUSCC(%d): %v", i, err)
		}
		if err := ids.CheckUSCC(c); err != nil {
			t.Fatalf("DevUSCC(%d) = %s: %v", i, c, err)
		}
		if j, dup := seen[c]; dup {
			t.Fatalf("DevUSCC(%d) = DevUSCC(%d) = %s", i, j, c)
		}
		seen[c] = i
	}
	if _, err := DevUSCC(-1); err == nil {
		t.Fatal("negative index accepted")
	}
}
