package policy

import "time"

// Attestation is a fact the record's authority attested (record.attest):
// Kind is one of the kinds in docs/policies.md, At when the fact occurred.
type Attestation struct {
	Kind string
	At   time.Time
}

// Repair statuses, as set by repair.apply and repair.decide.
const (
	RepairNone     = "none"
	RepairPending  = "pending"
	RepairApproved = "approved"
	RepairRejected = "rejected"
)

// Repair is the state of the record's credit-repair (信用修复) procedure.
type Repair struct {
	Status    string    // none | pending | approved | rejected
	DecidedAt time.Time // zero unless approved or rejected
}

// Record is the policy's view of a ledger record: what the record.create
// transaction fixed plus the attestations and repair decisions committed
// since. A court's extension of a court-defaulter listing (art. 2: 1 to 3
// more years) is part of Term when the record is created (P3Y..P5Y); there is
// no later extension event.
type Record struct {
	ID           string
	Category     string
	Authority    string
	Start        time.Time
	Term         *Duration // nil when the measure has no fixed term
	Measures     []string
	Status       string
	Attestations []Attestation
	Repair       Repair
}

// Decision is the outcome of evaluating a policy against a record at a block
// time.
type Decision struct {
	// Eligible reports whether the record may exit at that time.
	Eligible bool
	// Due is the earliest time the record could become eligible if nothing
	// else happens (no new attestation or decision). It is zero when the
	// record cannot become eligible without a new event. When Eligible is
	// true, Due is never after the evaluation time.
	Due time.Time
}
