// Package devnet plans, creates and runs a whole creditchain network in one
// process on top of the shared harness (PostgreSQL, NATS, etcd). It is what
// `creditchain dev` runs and what the end-to-end tests start.
package devnet

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Institution is one planned member.
type Institution struct {
	Member membership.Member
	Key    *suite.KeyFile
}

// Categories recorded by the non-court recorders: every administrative
// dishonesty category.
var adminCategories = []string{"serious-dishonesty", "general-dishonesty", "minor-dishonesty"}

type seat struct {
	name, kind string
	roles      []string
	categories []string
}

// defaultSeats is the network `creditchain dev` starts by default: a credit
// center (regulator, certificate issuer, portal host), four recorders and a
// bank that may submit.
var defaultSeats = []seat{
	{"厦门市公共信用信息中心", "credit_center", []string{membership.RoleRegulator, membership.RoleIssuer, membership.RoleSubmitter}, nil},
	{"厦门市中级人民法院", "court", []string{membership.RoleRecorder, membership.RoleSubmitter}, []string{"court-defaulter"}},
	{"厦门市市场监督管理局", "market_regulation", []string{membership.RoleRecorder, membership.RoleSubmitter}, adminCategories},
	{"国家税务总局厦门市税务局", "tax", []string{membership.RoleRecorder, membership.RoleSubmitter}, adminCategories},
	{"厦门市生态环境局", "ecology_environment", []string{membership.RoleRecorder, membership.RoleSubmitter}, adminCategories},
	{"中国某某银行厦门分行", "bank", []string{membership.RoleSubmitter}, nil},
}

// Plan lays out n institutions of which r are recorders (n ≥ r+1: the first
// is always the credit center). Keys are fresh.
func Plan(n, r int, alg string) ([]Institution, error) {
	if n < 2 || r < 1 || r > n-1 {
		return nil, fmt.Errorf("need at least 2 institutions and between 1 and n-1 recorders (got %d institutions, %d recorders)", n, r)
	}
	s, err := suite.ByName(alg)
	if err != nil {
		return nil, err
	}
	seats := []seat{defaultSeats[0]}
	for i := 0; i < r; i++ {
		if i < 4 {
			seats = append(seats, defaultSeats[1+i])
		} else {
			seats = append(seats, seat{fmt.Sprintf("第%d记账机构", i+1), "other",
				[]string{membership.RoleRecorder, membership.RoleSubmitter}, append([]string{"court-defaulter"}, adminCategories...)})
		}
	}
	for len(seats) < n {
		if len(seats) == 1+r && r <= 4 {
			seats = append(seats, defaultSeats[5])
			continue
		}
		seats = append(seats, seat{fmt.Sprintf("第%d成员机构", len(seats)+1), "association", []string{membership.RoleSubmitter}, nil})
	}
	out := make([]Institution, len(seats))
	for i, st := range seats {
		id, err := DevUSCC(i + 1)
		if err != nil {
			return nil, err
		}
		k, err := s.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		kf := suite.NewKeyFile(id, k)
		out[i] = Institution{
			Member: membership.Member{ID: id, Name: st.name, Kind: st.kind, Roles: st.roles, Categories: st.categories,
				Keys: []membership.Key{{KeyID: kf.KeyID, Alg: kf.Alg, Public: kf.Public}}},
			Key: kf,
		}
	}
	return out, nil
}

// DevUSCC makes the valid USCC of the i-th dev institution: registration
// authority 1 (机构编制), category 1 (机关), region 350200 (厦门), an
// organization code with its GB 11714 check digit and the GB 32100 check
// character.
func DevUSCC(i int) (string, error) {
	if i < 0 {
		return "", fmt.Errorf("dev USCC index %d is negative", i)
	}
	// "D" and seven base-31 digits in the USCC alphabet: 27 billion codes.
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	digits := make([]byte, 7)
	for j, v := 6, i; j >= 0; j, v = j-1, v/31 {
		digits[j] = alphabet[v%31]
	}
	org := "D" + string(digits)
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for j, c := range org {
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * weights[j]
	}
	check := "0123456789X0"[11-sum%11]
	first17 := "11350200" + org + string(check)
	c, err := ids.USCCCheckChar(first17)
	if err != nil {
		return "", err
	}
	code := first17 + string(c)
	if err := ids.CheckUSCC(code); err != nil {
		return "", fmt.Errorf("generated dev USCC %s: %w", code, err)
	}
	return code, nil
}

// Genesis makes the genesis of a planned network with the built-in policies.
func Genesis(chainID, alg string, insts []Institution, at time.Time) (*block.Genesis, error) {
	members := make([]membership.Member, len(insts))
	for i, in := range insts {
		members[i] = in.Member
	}
	return GenesisOf(chainID, alg, members, at)
}

// GenesisOf makes a genesis for members with the defaults of `creditchain
// dev` (two-thirds quorum, 100 ms blocks of at most 2,000 transactions, an
// empty block after 5 s idle) and the built-in policies. The certificate
// issuer is the first member with the issuer role, with its first key.
func GenesisOf(chainID, alg string, members []membership.Member, at time.Time) (*block.Genesis, error) {
	g := &block.Genesis{
		ChainID: chainID, CryptoSuite: alg, Quorum: membership.QuorumTwoThirds,
		Time:   at.UTC().Format(time.RFC3339),
		Limits: block.Limits{MaxTxs: 2000, MaxBytes: 4 << 20, BlockInterval: "100ms", IdleInterval: "5s"},
	}
	for _, m := range members {
		g.Members = append(g.Members, m)
		if m.HasRole(membership.RoleIssuer) && g.Issuer.ID == "" && len(m.Keys) > 0 {
			k := m.Keys[0]
			g.Issuer = block.Issuer{ID: m.ID, KeyID: k.KeyID, Alg: k.Alg, Public: k.Public}
		}
	}
	for _, p := range policy.Builtins() {
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		g.Policies = append(g.Policies, raw)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return g, nil
}
