package block

import (
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
)

// TrustBundle is what a verifier needs to check blocks, checkpoints and
// certificates offline (DESIGN 9.6): the genesis hash, the quorum rule,
// the recorders of every membership epoch and the certificate issuer.
type TrustBundle struct {
	ChainID     string       `json:"chain_id"`
	CryptoSuite string       `json:"crypto_suite"`
	GenesisHash string       `json:"genesis_hash"`
	Quorum      string       `json:"quorum"`
	Epochs      []TrustEpoch `json:"epochs"`
	Issuer      Issuer       `json:"issuer"`
}

// TrustEpoch is the membership in force from FromHeight on.
type TrustEpoch struct {
	Epoch      uint64        `json:"epoch"`
	FromHeight uint64        `json:"from_height"`
	Members    []TrustMember `json:"members"`
}

// TrustMember is an active member of an epoch. NoteKey, present for
// recorders, is the signed-note verifier key of the member's first key,
// named by its institution id, for checking checkpoints.
type TrustMember struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Roles      []string         `json:"roles"`
	Categories []string         `json:"categories"`
	Keys       []membership.Key `json:"keys"`
	NoteKey    string           `json:"note_key,omitempty"`
}

// NewTrustBundle builds the bundle of a chain from its genesis and its
// membership epochs in order (epoch 0 first); with no epochs, the genesis
// membership is epoch 0. Suspended and removed members are left out: the
// bundle lists who may act in each epoch.
func NewTrustBundle(g *Genesis, s suite.Suite, epochs []membership.Epoch) (*TrustBundle, error) {
	if g.CryptoSuite != s.Name() {
		return nil, fmt.Errorf("block: trust bundle: genesis suite %q, got %q", g.CryptoSuite, s.Name())
	}
	gb, err := g.Block(s)
	if err != nil {
		return nil, err
	}
	if len(epochs) == 0 {
		epochs = []membership.Epoch{*g.Epoch()}
	}
	tb := &TrustBundle{ChainID: g.ChainID, CryptoSuite: g.CryptoSuite, GenesisHash: gb.Hash, Quorum: g.Quorum, Issuer: g.Issuer}
	for i, e := range epochs {
		if i == 0 && (e.Epoch != 0 || e.FromHeight != 0) {
			return nil, fmt.Errorf("block: trust bundle: first epoch is %d from height %d, want 0 from 0", e.Epoch, e.FromHeight)
		}
		if i > 0 && (e.Epoch <= epochs[i-1].Epoch || e.FromHeight <= epochs[i-1].FromHeight) {
			return nil, fmt.Errorf("block: trust bundle: epoch %d from height %d does not follow epoch %d from height %d",
				e.Epoch, e.FromHeight, epochs[i-1].Epoch, epochs[i-1].FromHeight)
		}
		te := TrustEpoch{Epoch: e.Epoch, FromHeight: e.FromHeight, Members: []TrustMember{}}
		for _, m := range e.Members {
			if !m.Active() {
				continue
			}
			tm, err := trustMember(m)
			if err != nil {
				return nil, fmt.Errorf("block: trust bundle: epoch %d: %w", e.Epoch, err)
			}
			te.Members = append(te.Members, tm)
		}
		tb.Epochs = append(tb.Epochs, te)
	}
	return tb, nil
}

func trustMember(m membership.Member) (TrustMember, error) {
	tm := TrustMember{ID: m.ID, Name: m.Name, Roles: orEmpty(m.Roles), Categories: orEmpty(m.Categories), Keys: slices.Clone(m.Keys)}
	if tm.Keys == nil {
		tm.Keys = []membership.Key{}
	}
	if m.HasRole(membership.RoleRecorder) {
		if len(m.Keys) == 0 {
			return TrustMember{}, fmt.Errorf("recorder %s has no key", m.ID)
		}
		k := m.Keys[0]
		vk, err := checkpoint.VerifierKey(m.ID, k.Alg, k.Public)
		if err != nil {
			return TrustMember{}, fmt.Errorf("recorder %s: %w", m.ID, err)
		}
		tm.NoteKey = vk
	}
	return tm, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// Epoch returns membership epoch n as listed in the bundle.
func (tb *TrustBundle) Epoch(n uint64) (*membership.Epoch, error) {
	for _, te := range tb.Epochs {
		if te.Epoch != n {
			continue
		}
		e := &membership.Epoch{Epoch: te.Epoch, FromHeight: te.FromHeight}
		for _, tm := range te.Members {
			e.Members = append(e.Members, membership.Member{
				ID: tm.ID, Name: tm.Name, Roles: slices.Clone(tm.Roles),
				Categories: slices.Clone(tm.Categories), Keys: slices.Clone(tm.Keys),
			})
		}
		return e, nil
	}
	return nil, fmt.Errorf("block: trust bundle has no epoch %d", n)
}

// NoteVerifiers returns the checkpoint verifiers of epoch n's recorders.
func (tb *TrustBundle) NoteVerifiers(n uint64) ([]note.Verifier, error) {
	for _, te := range tb.Epochs {
		if te.Epoch != n {
			continue
		}
		var out []note.Verifier
		for _, tm := range te.Members {
			if !slices.Contains(tm.Roles, membership.RoleRecorder) {
				continue
			}
			if tm.NoteKey == "" {
				return nil, fmt.Errorf("block: trust bundle: recorder %s has no note_key", tm.ID)
			}
			v, err := checkpoint.NewVerifier(tm.NoteKey)
			if err != nil {
				return nil, fmt.Errorf("block: trust bundle: recorder %s: %w", tm.ID, err)
			}
			if v.Name() != tm.ID {
				return nil, fmt.Errorf("block: trust bundle: recorder %s: note_key is named %q", tm.ID, v.Name())
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("block: trust bundle has no epoch %d", n)
}

// QuorumSize is the number of recorder signatures epoch n needs.
func (tb *TrustBundle) QuorumSize(n uint64) (int, error) {
	e, err := tb.Epoch(n)
	if err != nil {
		return 0, err
	}
	return membership.QuorumSize(tb.Quorum, len(e.Recorders()))
}
