package block

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Genesis holds the chain parameters, the initial members and the initial
// policies (DESIGN 4). Its canonical hash is the genesis header's Params.
type Genesis struct {
	ChainID     string              `json:"chain_id"`
	CryptoSuite string              `json:"crypto_suite"`
	Quorum      string              `json:"quorum"`
	Time        string              `json:"time"`
	Limits      Limits              `json:"limits"`
	Members     []membership.Member `json:"members"`
	Policies    []json.RawMessage   `json:"policies"`
	Issuer      Issuer              `json:"issuer"`
	// LegacyUSCC lists organization codes accepted although they fail the
	// USCC checks (codes issued before GB 32100 was enforced).
	LegacyUSCC []string `json:"legacy_uscc,omitempty"`
}

// Limits bound block production. Intervals are Go duration strings.
type Limits struct {
	MaxTxs        int    `json:"max_txs"`
	MaxBytes      int    `json:"max_bytes"`
	BlockInterval string `json:"block_interval"`
	IdleInterval  string `json:"idle_interval"`
}

// Issuer is the certificate issuer's key (DESIGN 7 and 9.6).
type Issuer struct {
	ID     string `json:"id"`
	KeyID  string `json:"key_id"`
	Alg    string `json:"alg"`
	Public []byte `json:"public"` // standard base64 in JSON
}

// MarshalJSON writes empty members and policies as [] (never null), so that
// a genesis built in Go and one decoded from JSON hash alike.
func (g Genesis) MarshalJSON() ([]byte, error) {
	type plain Genesis
	if g.Members == nil {
		g.Members = []membership.Member{}
	}
	if g.Policies == nil {
		g.Policies = []json.RawMessage{}
	}
	return json.Marshal(plain(g))
}

// DecodeGenesis decodes a genesis strictly and validates it.
func DecodeGenesis(data []byte) (*Genesis, error) {
	var g Genesis
	if err := decodeStrict(data, &g); err != nil {
		return nil, fmt.Errorf("block: decoding genesis: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// Suite returns the genesis crypto suite.
func (g *Genesis) Suite() (suite.Suite, error) {
	s, err := suite.ByName(g.CryptoSuite)
	if err != nil {
		return nil, fmt.Errorf("block: genesis: %w", err)
	}
	return s, nil
}

// ParamsHash is hex hash(JCS(genesis)).
func (g *Genesis) ParamsHash(s suite.Suite) (string, error) {
	h, err := hashOf(s, g)
	if err != nil {
		return "", fmt.Errorf("block: hashing genesis: %w", err)
	}
	return h, nil
}

// Header is the genesis header: height 0, prev all zeros, the genesis time,
// empty transaction and log roots, and the parameters' hash.
func (g *Genesis) Header(s suite.Suite) (Header, error) {
	params, err := g.ParamsHash(s)
	if err != nil {
		return Header{}, err
	}
	empty := hex.EncodeToString(merklelog.NewHasher(s).EmptyRoot())
	return Header{
		Chain:   g.ChainID,
		Height:  0,
		Prev:    ZeroHash,
		Time:    g.Time,
		TxRoot:  empty,
		LogRoot: empty,
		Params:  params,
	}, nil
}

// Block is the genesis block: no cosignatures (the trust bundle anchors its
// hash), no transactions.
func (g *Genesis) Block(s suite.Suite) (*Block, error) {
	h, err := g.Header(s)
	if err != nil {
		return nil, err
	}
	hash, err := h.Hash(s)
	if err != nil {
		return nil, err
	}
	c := *g
	return &Block{Header: h, Hash: hash, Cosignatures: []Cosignature{}, Txs: []json.RawMessage{}, Genesis: &c}, nil
}

// Epoch is membership epoch 0: the genesis members from height 0.
func (g *Genesis) Epoch() *membership.Epoch {
	return &membership.Epoch{Epoch: 0, FromHeight: 0, Members: slices.Clone(g.Members)}
}

// Validate checks the genesis is usable: a known suite and quorum rule, a
// well-formed chain id and time, sane limits, at least one active
// recorder, unique member ids, and keys whose key ids match.
func (g *Genesis) Validate() error {
	s, err := g.Suite()
	if err != nil {
		return err
	}
	if err := checkChainID(g.ChainID); err != nil {
		return err
	}
	switch g.Quorum {
	case membership.QuorumTwoThirds, membership.QuorumMajority, membership.QuorumAll:
	default:
		return fmt.Errorf("block: genesis: unknown quorum rule %q", g.Quorum)
	}
	if _, err := parseTime(g.Time); err != nil {
		return fmt.Errorf("block: genesis: %w", err)
	}
	if err := g.Limits.validate(); err != nil {
		return err
	}
	if len(g.Members) == 0 {
		return fmt.Errorf("block: genesis: no members")
	}
	ids := make(map[string]bool)
	for i := range g.Members {
		m := &g.Members[i]
		if ids[m.ID] {
			return fmt.Errorf("block: genesis: member %s listed twice", m.ID)
		}
		ids[m.ID] = true
		if err := validateMember(s, m); err != nil {
			return fmt.Errorf("block: genesis: member %d (%s): %w", i, m.ID, err)
		}
	}
	if len(g.Epoch().Recorders()) == 0 {
		return fmt.Errorf("block: genesis: no active recorder")
	}
	for i, p := range g.Policies {
		if !json.Valid(p) {
			return fmt.Errorf("block: genesis: policy %d is not JSON", i)
		}
	}
	if err := g.Issuer.validate(s); err != nil {
		return err
	}
	for _, c := range g.LegacyUSCC {
		if c == "" {
			return fmt.Errorf("block: genesis: empty legacy USCC")
		}
	}
	if _, err := g.ParamsHash(s); err != nil {
		return err
	}
	return nil
}

func (l Limits) validate() error {
	if l.MaxTxs < 1 || l.MaxBytes < 1 {
		return fmt.Errorf("block: genesis: limits max_txs %d and max_bytes %d must be positive", l.MaxTxs, l.MaxBytes)
	}
	for name, v := range map[string]string{"block_interval": l.BlockInterval, "idle_interval": l.IdleInterval} {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("block: genesis: limits %s %q is not a positive Go duration", name, v)
		}
	}
	return nil
}

func (is Issuer) validate(s suite.Suite) error {
	if err := checkID(is.ID); err != nil {
		return fmt.Errorf("block: genesis: issuer: %w", err)
	}
	if is.Alg != s.Name() {
		return fmt.Errorf("block: genesis: issuer key is %q, chain suite is %q", is.Alg, s.Name())
	}
	if err := suite.CheckPublicKey(is.Alg, is.Public); err != nil {
		return fmt.Errorf("block: genesis: issuer: %w", err)
	}
	if want := suite.KeyID(is.Alg, is.Public); is.KeyID != want {
		return fmt.Errorf("block: genesis: issuer key id %q, want %q", is.KeyID, want)
	}
	return nil
}

var knownRoles = []string{membership.RoleRecorder, membership.RoleSubmitter, membership.RoleRegulator, membership.RoleIssuer}

func validateMember(s suite.Suite, m *membership.Member) error {
	if err := checkID(m.ID); err != nil {
		return err
	}
	if m.Name == "" {
		return fmt.Errorf("no name")
	}
	if m.Kind != "" && !slices.Contains(membership.Kinds, m.Kind) {
		return fmt.Errorf("unknown kind %q", m.Kind)
	}
	if m.Status != "" && m.Status != membership.StatusActive {
		return fmt.Errorf("status %q at genesis", m.Status)
	}
	if len(m.Roles) == 0 {
		return fmt.Errorf("no roles")
	}
	for _, r := range m.Roles {
		if !slices.Contains(knownRoles, r) {
			return fmt.Errorf("unknown role %q", r)
		}
	}
	if len(m.Keys) == 0 {
		return fmt.Errorf("no keys")
	}
	keyIDs := make(map[string]bool)
	for _, k := range m.Keys {
		if k.Alg != s.Name() {
			return fmt.Errorf("key %s is %q, chain suite is %q", k.KeyID, k.Alg, s.Name())
		}
		if err := suite.CheckPublicKey(k.Alg, k.Public); err != nil {
			return fmt.Errorf("key %s: %w", k.KeyID, err)
		}
		if want := suite.KeyID(k.Alg, k.Public); k.KeyID != want {
			return fmt.Errorf("key id %q does not match its key (%q)", k.KeyID, want)
		}
		if keyIDs[k.KeyID] {
			return fmt.Errorf("key %s listed twice", k.KeyID)
		}
		keyIDs[k.KeyID] = true
	}
	return nil
}

// checkID keeps institution ids usable as signed-note key names.
func checkID(id string) error {
	if id == "" || strings.ContainsRune(id, '+') || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return fmt.Errorf("institution id %q: must be non-empty, without spaces or '+'", id)
	}
	return nil
}

// checkChainID keeps the chain id usable as a checkpoint origin line and
// inside the cosignature message.
func checkChainID(id string) error {
	if id == "" || len(id) > 128 || !utf8.ValidString(id) {
		return fmt.Errorf("block: genesis: chain id %q must be 1 to 128 bytes", id)
	}
	for _, r := range id {
		if r <= ' ' || r == '+' || !unicode.IsPrint(r) {
			return fmt.Errorf("block: genesis: chain id %q: no spaces, control characters or '+'", id)
		}
	}
	return nil
}
