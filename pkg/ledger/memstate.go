package ledger

import (
	"context"
	"encoding/hex"
	"slices"

	"github.com/creditchain/creditchain/pkg/membership"
)

// MemoryState is committed state held in memory: a StateReader that a replay
// (the audit of a replica, tools, tests) fills block by block with Apply.
// Entities are shared with the batches applied to it, which is safe because
// the executor copies an entity before changing it.
type MemoryState struct {
	Records      map[string]*Record
	Reports      map[string]*Report
	Repairs      map[string]*RepairApplication
	Objections   map[string]*Objection
	Certificates map[string]*Certificate
	Policies     map[string]*PolicyState
	// Epochs are every membership epoch in order; the last is in force.
	Epochs []membership.Epoch
	Quorum string

	// Transaction ids are hex hashes: keeping the raw 32 bytes instead of
	// the string roughly halves the memory of a long replay.
	committed map[[32]byte]struct{}
	other     map[string]struct{} // ids that are not 64 hex chars
}

// NewMemoryState starts an empty state with membership epoch0 and the
// genesis quorum rule.
func NewMemoryState(epoch0 membership.Epoch, quorum string) *MemoryState {
	return &MemoryState{
		Records:      map[string]*Record{},
		Reports:      map[string]*Report{},
		Repairs:      map[string]*RepairApplication{},
		Objections:   map[string]*Objection{},
		Certificates: map[string]*Certificate{},
		Policies:     map[string]*PolicyState{},
		Epochs:       []membership.Epoch{epoch0},
		Quorum:       quorum,
		committed:    map[[32]byte]struct{}{},
		other:        map[string]struct{}{},
	}
}

// Apply makes a block's batch committed state.
func (m *MemoryState) Apply(b *Batch) {
	copyInto(m.Records, b.Records)
	copyInto(m.Reports, b.Reports)
	copyInto(m.Repairs, b.Repairs)
	copyInto(m.Objections, b.Objections)
	copyInto(m.Certificates, b.Certificates)
	copyInto(m.Policies, b.Policies)
	if b.Epoch != nil {
		e := *b.Epoch
		e.Members = slices.Clone(e.Members)
		m.Epochs = append(m.Epochs, e)
	}
	for _, id := range b.Txs {
		if k, ok := idKey(id); ok {
			m.committed[k] = struct{}{}
		} else {
			m.other[id] = struct{}{}
		}
	}
}

// TxCount is the number of committed transactions.
func (m *MemoryState) TxCount() int { return len(m.committed) + len(m.other) }

func copyInto[T any](dst, src map[string]*T) {
	for k, v := range src {
		dst[k] = v
	}
}

func idKey(id string) ([32]byte, bool) {
	var k [32]byte
	if len(id) != 64 {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(id)); err != nil {
		return k, false
	}
	// Only the lowercase spelling maps to the compact key, so that an
	// uppercase id is not mistaken for its lowercase twin.
	if hex.EncodeToString(k[:]) != id {
		return k, false
	}
	return k, true
}

// Record implements StateReader.
func (m *MemoryState) Record(_ context.Context, id string) (*Record, error) {
	return m.Records[id], nil
}

// Committed implements StateReader.
func (m *MemoryState) Committed(_ context.Context, txID string) (bool, error) {
	if k, ok := idKey(txID); ok {
		_, done := m.committed[k]
		return done, nil
	}
	_, done := m.other[txID]
	return done, nil
}

// Report implements StateReader.
func (m *MemoryState) Report(_ context.Context, id string) (*Report, error) {
	return m.Reports[id], nil
}

// RepairApplication implements StateReader.
func (m *MemoryState) RepairApplication(_ context.Context, id string) (*RepairApplication, error) {
	return m.Repairs[id], nil
}

// Objection implements StateReader.
func (m *MemoryState) Objection(_ context.Context, id string) (*Objection, error) {
	return m.Objections[id], nil
}

// Certificate implements StateReader.
func (m *MemoryState) Certificate(_ context.Context, certNo string) (*Certificate, error) {
	return m.Certificates[certNo], nil
}

// Policy implements StateReader.
func (m *MemoryState) Policy(_ context.Context, id string) (*PolicyState, error) {
	return m.Policies[id], nil
}

// Membership implements StateReader: the newest epoch.
func (m *MemoryState) Membership(context.Context) (*membership.Epoch, error) {
	return &m.Epochs[len(m.Epochs)-1], nil
}

// QuorumRule implements StateReader.
func (m *MemoryState) QuorumRule() string { return m.Quorum }

var _ StateReader = (*MemoryState)(nil)
