package exitcontract

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
)

// boundPolicy is one compiled policy version.
type boundPolicy struct {
	policy   policy.Policy
	compiled *policy.Compiled
}

// policyCache compiles each policy version a record is bound to once. The
// content of a version never changes after its policy.propose commits (only
// its approvals do), so entries never go stale and one database read per
// version suffices, even for millions of records.
type policyCache struct {
	read func(ctx context.Context, id string) (*ledger.PolicyState, error)

	mu       sync.Mutex
	versions map[ledger.PolicyRef]*boundPolicy
}

func newPolicyCache(read func(ctx context.Context, id string) (*ledger.PolicyState, error)) *policyCache {
	return &policyCache{read: read, versions: map[ledger.PolicyRef]*boundPolicy{}}
}

func (c *policyCache) get(ctx context.Context, ref ledger.PolicyRef) (*boundPolicy, error) {
	c.mu.Lock()
	b, ok := c.versions[ref]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	ps, err := c.read(ctx, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", ref.ID, err)
	}
	if ps == nil {
		return nil, fmt.Errorf("policy %s is not on the replica", ref.ID)
	}
	pv, ok := ps.Version(ref.Version)
	if !ok {
		return nil, fmt.Errorf("policy %s has no version %d on the replica", ref.ID, ref.Version)
	}
	p := pv.Policy
	compiled, err := policy.Compile(&p)
	if err != nil {
		return nil, &EvaluationError{fmt.Errorf("compile policy %s@%d: %w", ref.ID, ref.Version, err)}
	}
	b = &boundPolicy{policy: p, compiled: compiled}
	c.mu.Lock()
	c.versions[ref] = b
	c.mu.Unlock()
	return b, nil
}

// EvaluationError is a policy failing on a record: compiling or
// evaluating its bound version. It fails alike on every node (DESIGN 9.5),
// so the record cannot exit until an event changes it. Other errors of
// planFor are failures to read the replica, worth retrying.
type EvaluationError struct{ Err error }

func (e *EvaluationError) Error() string { return e.Err.Error() }
func (e *EvaluationError) Unwrap() error { return e.Err }

// plan is what to do about one record as of a block time.
type plan struct {
	// Action is the next transaction the record's lifecycle needs; zero
	// when only a new event (attestation, repair decision) can change that,
	// or when the record's lifecycle is over.
	Action Action
	// Due is the earliest block time at which Action may be valid.
	Due time.Time
	// Now reports that Action is valid at the block time evaluated: submit it.
	Now bool
	// Reason is the bilingual reason of an exit that is valid now.
	Reason string
}

// planFor decides what r needs at block time at, from its bound policy
// version alone; consensus applies the same rules when the submission
// lands, so a wrong plan costs a rejected transaction, never a wrong exit.
func (c *policyCache) planFor(ctx context.Context, r *ledger.Record, at time.Time) (plan, error) {
	switch r.Status {
	case ledger.StatusActive:
		b, err := c.get(ctx, r.Policy)
		if err != nil {
			return plan{}, err
		}
		d, err := b.compiled.Evaluate(ledger.PolicyInput(r), at)
		if err != nil {
			return plan{}, &EvaluationError{fmt.Errorf("record %s: %w", r.ID, err)}
		}
		switch {
		case d.Eligible:
			return plan{Action: ActionExit, Due: d.Due, Now: true, Reason: exitReason(r, b.policy, at)}, nil
		case d.Due.IsZero():
			return plan{}, nil
		default:
			// A due at or before at (a policy may answer early) brings the
			// record back at the next block, which is the safe side.
			return plan{Action: ActionExit, Due: d.Due}, nil
		}
	case ledger.StatusExited, ledger.StatusRevoked:
		ended := r.Exit
		if r.Status == ledger.StatusRevoked {
			ended = r.Revoked
		}
		if ended == nil {
			return plan{}, &EvaluationError{fmt.Errorf("record %s is %s but has no end transaction", r.ID, r.Status)}
		}
		b, err := c.get(ctx, r.Policy)
		if err != nil {
			return plan{}, err
		}
		due := b.compiled.PurgeAfter().AddTo(ended.Time)
		return plan{Action: ActionPurge, Due: due, Now: !at.Before(due)}, nil
	}
	// Purged (or a status this version does not know): nothing left to do.
	return plan{}, nil
}
