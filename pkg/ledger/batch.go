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
	return b.base.Policy(ctx, id)
}

// Membership is the epoch in force for this block. A member.update inside the
// block takes effect from the next block, so this ignores b.Epoch.
func (b *Batch) Membership(ctx context.Context) (*membership.Epoch, error) {
	return b.base.Membership(ctx)
}

// QuorumRule is the genesis quorum rule.
func (b *Batch) QuorumRule() string { return b.base.QuorumRule() }

// nextMembership is the membership as changed so far by this block.
func (b *Batch) nextMembership(ctx context.Context) (*membership.Epoch, error) {
	if b.Epoch != nil {
		return b.Epoch, nil
	}
	return b.base.Membership(ctx)
}
