package txn

import "slices"

// Attestation kinds (DESIGN 9.5).
const (
	AttestPerformed             = "performed"
	AttestSettled               = "settled"
	AttestCreditorWithdrew      = "creditor_withdrew"
	AttestNoAssetsFound         = "no_assets_found"
	AttestEnforcementSuspended  = "enforcement_suspended"
	AttestEnforcementNotAllowed = "enforcement_not_allowed"
	AttestEnforcementTerminated = "enforcement_terminated"
)

// AttestationKinds lists the kinds a record.attest may carry.
var AttestationKinds = []string{
	AttestPerformed, AttestSettled, AttestCreditorWithdrew, AttestNoAssetsFound,
	AttestEnforcementSuspended, AttestEnforcementNotAllowed, AttestEnforcementTerminated,
}

// Repair decisions and objection outcomes.
const (
	DecisionApproved = "approved"
	DecisionRejected = "rejected"
	OutcomeUpheld    = "upheld"
	OutcomeDismissed = "dismissed"
)

// member.update actions.
const (
	ActionAdmit   = "admit"
	ActionUpdate  = "update"
	ActionSuspend = "suspend"
	ActionRemove  = "remove"
)

// MemberActions lists the member.update actions.
var MemberActions = []string{ActionAdmit, ActionUpdate, ActionSuspend, ActionRemove}

// SigAlgs lists the signature algs an envelope may name: the suite names.
var SigAlgs = []string{"ed25519", "sm2"}

func oneOf(v string, allowed ...string) bool { return slices.Contains(allowed, v) }
