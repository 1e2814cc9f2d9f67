package merklelog

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

// The Merkle log vectors published in docs/test-vectors.md ("## Merkle log
// and blocks"): leaves "a".."e".
var vectorRoots = map[string][]string{
	suite.Ed25519: {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c",
		"b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb",
		"36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1",
		"33376a3bd63e9993708a84ddfe6c28ae58b83505dd1fed711bd924ec5a6239f0",
		"fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b",
	},
	suite.SM2: {
		"1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
		"c688f41bcd570f9651ccb215058a545f66f52ab4eac2968896e1637af9443d8c",
		"2c537e31416ae684fd8a1552a3bcd5a452274e02a45d67c856405b3a1108ee90",
		"2706e4e4d41c1ed9c3fe7f7822bf360a67abcc052cc2c00022c1313ec3ded965",
		"0f89a82a10fb130d6e6095696f6ac64980252b730196457bc0d5e47aa3dc054c",
		"59d4ece8d4b1eb417ba6b83c5af20b91288413c61a2be15fb64e311c584aa5e8",
	},
}

var vectorInclusion = map[string]string{
	suite.Ed25519: `{"tx_id":"-","leaf_index":2,"tree_size":5,"root":"fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b","proof":["d070dc5b8da9aea7dc0f5ad4c29d89965200059c9a0ceca3abd5da2492dcb71d","b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb","2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4"]}`,
	suite.SM2:     `{"tx_id":"-","leaf_index":2,"tree_size":5,"root":"59d4ece8d4b1eb417ba6b83c5af20b91288413c61a2be15fb64e311c584aa5e8","proof":["28fd620986d700effe942161aa92c1e632ca00dd3dcbd60ad0d3b4545015b4fe","2c537e31416ae684fd8a1552a3bcd5a452274e02a45d67c856405b3a1108ee90","1f4f47b21853d45f95bdafd22808211cefac5ae984e82d4438449f525e63b243"]}`,
}

var vectorConsistency = map[string]string{
	suite.Ed25519: `{"from":3,"to":5,"from_root":"36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1","to_root":"fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b","proof":["597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8","d070dc5b8da9aea7dc0f5ad4c29d89965200059c9a0ceca3abd5da2492dcb71d","b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb","2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4"]}`,
	suite.SM2:     `{"from":3,"to":5,"from_root":"2706e4e4d41c1ed9c3fe7f7822bf360a67abcc052cc2c00022c1313ec3ded965","to_root":"59d4ece8d4b1eb417ba6b83c5af20b91288413c61a2be15fb64e311c584aa5e8","proof":["5b280c126260877493fd073e309507ce00677c1f89d8d24d97d61a7a4dff401c","28fd620986d700effe942161aa92c1e632ca00dd3dcbd60ad0d3b4545015b4fe","2c537e31416ae684fd8a1552a3bcd5a452274e02a45d67c856405b3a1108ee90","1f4f47b21853d45f95bdafd22808211cefac5ae984e82d4438449f525e63b243"]}`,
}

func TestVectors(t *testing.T) {
	ctx := context.Background()
	for name, h := range hashers(t) {
		t.Run(name, func(t *testing.T) {
			l, st := NewLog(h), NewMemoryStore()
			var leaves [][]byte
			for i, want := range vectorRoots[name] {
				if got := hex.EncodeToString(Root(h, leaves)); got != want {
					t.Fatalf("root of %d leaves %s, want %s", i, got, want)
				}
				if i < 5 {
					leaf := []byte{byte('a' + i)}
					leaves = append(leaves, leaf)
					nodes, err := l.Append([][]byte{leaf})
					if err != nil {
						t.Fatal(err)
					}
					st.Put(nodes)
				}
			}
			root, _ := l.Root()
			p, err := ProveInclusion(ctx, st, h, 2, 5)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(NewInclusionProof("-", 2, 5, root, p))
			if string(got) != vectorInclusion[name] {
				t.Fatalf("inclusion proof\n%s\nwant\n%s", got, vectorInclusion[name])
			}
			var ip InclusionProof
			if err := json.Unmarshal(got, &ip); err != nil {
				t.Fatal(err)
			}
			if err := ip.Verify(h, []byte("c")); err != nil {
				t.Fatal(err)
			}
			root3, _ := hex.DecodeString(vectorRoots[name][3])
			p, err = ProveConsistency(ctx, st, h, 3, 5)
			if err != nil {
				t.Fatal(err)
			}
			got, _ = json.Marshal(NewConsistencyProof(3, 5, root3, root, p))
			if string(got) != vectorConsistency[name] {
				t.Fatalf("consistency proof\n%s\nwant\n%s", got, vectorConsistency[name])
			}
			var cp ConsistencyProof
			if err := json.Unmarshal(got, &cp); err != nil {
				t.Fatal(err)
			}
			if err := cp.Verify(h); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestVectorsDocumented keeps docs/test-vectors.md and the constants in step.
func TestVectorsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/test-vectors.md")
	if err != nil {
		t.Fatalf("reading docs/test-vectors.md: %v", err)
	}
	_, sec, ok := strings.Cut(string(doc), "## Merkle log and blocks")
	if !ok {
		t.Fatal(`docs/test-vectors.md has no "## Merkle log and blocks" section`)
	}
	for _, name := range []string{suite.Ed25519, suite.SM2} {
		for i, r := range vectorRoots[name] {
			if !strings.Contains(sec, "| "+string(rune('0'+i))+" | `"+r+"` |") {
				t.Errorf("the section lacks the %s root of %d leaves %s", name, i, r)
			}
		}
		for what, v := range map[string]string{"inclusion proof": vectorInclusion[name], "consistency proof": vectorConsistency[name]} {
			if !strings.Contains(sec, v) {
				t.Errorf("the section lacks the %s %s %s", name, what, v)
			}
		}
	}
}
