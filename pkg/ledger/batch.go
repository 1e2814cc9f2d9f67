package ledger

import (
	"context"

	"github.com/creditchain/creditchain/pkg/membership"
)

// Batch is the state seen while a block is built or applied: the committed
// state underneath, and the changes of the block's transactions so far on top.
// Its maps are what an adapter writes when the block commits.
type Batch struct {
	base StateReader

	Records      map[string]*Record
	Reports      map[string]*Report
	Repairs      map[string]*RepairApplication
	Objections   map[string]*Objection
	Certificates map[string]*Certificate
	Policies     map[string]*PolicyState
	// Epoch is set when a member.update changed the membership.
	Epoch *membership.Epoch
	// Txs are the committed transactions of the block, in order.
	Txs []string
	// Purged lists the subjects' sidecar commitments to delete.
	Purged  []string
	txIndex map[string]bool

	// Read caches: the block's transactions ask for the same policies and
	// membership again and again, and the committed-set check is prefetched
	// for all candidates in one query.
	policyCache map[string]*PolicyState
	membership  *membership.Epoch
	prefetched  map[string]bool // looked-up tx id -> committed before this batch
}

// CommittedLookup is implemented by state stores that can check many
// transaction ids in one round trip.
type CommittedLookup interface {
	CommittedAmong(ctx context.Context, ids []string) (map[string]bool, error)
}

// Prefetch looks up which of ids are already committed, in one round trip
// when the store supports it, so that Committed needs no query per tx.
func (b *Batch) Prefetch(ctx context.Context, ids []string) error {
	cl, ok := b.base.(CommittedLookup)
	if !ok {
		return nil
	}
	got, err := cl.CommittedAmong(ctx, ids)
	if err != nil {
		return err
	}
	b.prefetched = make(map[string]bool, len(ids))
	for _, id := range ids {
		b.prefetched[id] = got[id]
	}
	return nil
}

// NewBatch starts an empty batch over committed state.
func NewBatch(base StateReader) *Batch {
	return &Batch{
		base:         base,
		Records:      map[string]*Record{},
		Reports:      map[string]*Report{},
		Repairs:      map[string]*RepairApplication{},
		Objections:   map[string]*Objection{},
		Certificates: map[string]*Certificate{},
		Policies:     map[string]*PolicyState{},
		txIndex:      map[string]bool{},
	}
}

// Record returns the record with id as the batch sees it.
func (b *Batch) Record(ctx context.Context, id string) (*Record, error) {
	if r, ok := b.Records[id]; ok {
		return r, nil
	}
	return b.base.Record(ctx, id)
}

// Committed reports whether txID is committed, before or in this batch.
func (b *Batch) Committed(ctx context.Context, txID string) (bool, error) {
	if b.txIndex[txID] {
		return true, nil
	}
	if done, ok := b.prefetched[txID]; ok {
		return done, nil
	}
	return b.base.Committed(ctx, txID)
}

// Report returns a report.
func (b *Batch) Report(ctx context.Context, id string) (*Report, error) {
	if r, ok := b.Reports[id]; ok {
		return r, nil
	}
	return b.base.Report(ctx, id)
}

// RepairApplication returns a repair application.
func (b *Batch) RepairApplication(ctx context.Context, id string) (*RepairApplication, error) {
	if r, ok := b.Repairs[id]; ok {
		return r, nil
	}
	return b.base.RepairApplication(ctx, id)
}

// Objection returns an objection.
func (b *Batch) Objection(ctx context.Context, id string) (*Objection, error) {
	if o, ok := b.Objections[id]; ok {
		return o, nil
	}
	return b.base.Objection(ctx, id)
}

// Certificate returns a certificate.
func (b *Batch) Certificate(ctx context.Context, certNo string) (*Certificate, error) {
	if c, ok := b.Certificates[certNo]; ok {
		return c, nil
	}
	return b.base.Certificate(ctx, certNo)
}

// Policy returns a policy's versions.
func (b *Batch) Policy(ctx context.Context, id string) (*PolicyState, error) {
	if p, ok := b.Policies[id]; ok {
		return p, nil
	}
	if p, ok := b.policyCache[id]; ok {
		return p, nil
	}
	p, err := b.base.Policy(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.policyCache == nil {
		b.policyCache = map[string]*PolicyState{}
	}
	b.policyCache[id] = p
	return p, nil
}

// Membership is the epoch in force for this block. A member.update inside the
// block takes effect from the next block, so this ignores b.Epoch.
func (b *Batch) Membership(ctx context.Context) (*membership.Epoch, error) {
	if b.membership != nil {
		return b.membership, nil
	}
	m, err := b.base.Membership(ctx)
	if err != nil {
		return nil, err
	}
	b.membership = m
	return m, nil
}

// QuorumRule is the genesis quorum rule.
func (b *Batch) QuorumRule() string { return b.base.QuorumRule() }

// nextMembership is the membership as changed so far by this block.
func (b *Batch) nextMembership(ctx context.Context) (*membership.Epoch, error) {
	if b.Epoch != nil {
		return b.Epoch, nil
	}
	return b.Membership(ctx)
}
