// Package membership holds the consortium's members by epoch and the quorum
// rules. It is pure data: etcd and the ledger are adapters that fill it.
package membership

import (
	"fmt"
	"slices"
)

// Roles a member may hold.
const (
	RoleRecorder  = "recorder"
	RoleSubmitter = "submitter"
	RoleRegulator = "regulator"
	RoleIssuer    = "issuer"
)

// Member statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRemoved   = "removed"
)

// Kinds of institution (DESIGN 9.7).
var Kinds = []string{"credit_center", "court", "market_regulation", "tax",
	"ecology_environment", "bank", "credit_bureau", "association", "exchange", "other"}

// Key is a member's public key in the contract encoding.
type Key struct {
	KeyID  string `json:"key_id"`
	Alg    string `json:"alg"`
	Public []byte `json:"public"` // standard base64 in JSON
}

// Member is one institution.
type Member struct {
	ID         string   `json:"id"` // USCC
	Name       string   `json:"name"`
	Kind       string   `json:"kind,omitempty"`
	Roles      []string `json:"roles"`
	Categories []string `json:"categories,omitempty"`
	Keys       []Key    `json:"keys"`
	Status     string   `json:"status,omitempty"` // absent means active
}

// HasRole reports whether m holds role.
func (m *Member) HasRole(role string) bool { return slices.Contains(m.Roles, role) }

// MayRecord reports whether m may record category.
func (m *Member) MayRecord(category string) bool {
	return m.HasRole(RoleRecorder) && slices.Contains(m.Categories, category)
}

// Active reports whether the member is neither suspended nor removed.
func (m *Member) Active() bool { return m.Status == "" || m.Status == StatusActive }

// Key returns the member's key with keyID.
func (m *Member) Key(keyID string) (Key, bool) {
	for _, k := range m.Keys {
		if k.KeyID == keyID {
			return k, true
		}
	}
	return Key{}, false
}

// Quorum rules.
const (
	QuorumTwoThirds = "two-thirds"
	QuorumMajority  = "majority"
	QuorumAll       = "all"
)

// QuorumSize returns how many of n recorders must cosign under rule.
func QuorumSize(rule string, n int) (int, error) {
	switch rule {
	case QuorumTwoThirds, "":
		return 2*n/3 + 1, nil
	case QuorumMajority:
		return n/2 + 1, nil
	case QuorumAll:
		return n, nil
	}
	return 0, fmt.Errorf("unknown quorum rule %q", rule)
}

// Epoch is the membership in force from a height on.
type Epoch struct {
	Epoch      uint64   `json:"epoch"`
	FromHeight uint64   `json:"from_height"`
	Members    []Member `json:"members"`
}

// Member returns the member with id.
func (e *Epoch) Member(id string) (*Member, bool) {
	for i := range e.Members {
		if e.Members[i].ID == id {
			return &e.Members[i], true
		}
	}
	return nil, false
}

// Recorders returns the active recorders of the epoch.
func (e *Epoch) Recorders() []*Member {
	var out []*Member
	for i := range e.Members {
		m := &e.Members[i]
		if m.Active() && m.HasRole(RoleRecorder) {
			out = append(out, m)
		}
	}
	return out
}
