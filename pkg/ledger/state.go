// Package ledger is the state machine of the chain: the entities that
// transactions create and change, and the rules that decide whether a
// transaction commits or is rejected with a reason. It is pure: state is read
// through StateReader, and a block's changes are collected in a Batch that an
// adapter (PostgreSQL, or memory in tests) writes in one transaction.
package ledger

import (
	"context"
	"time"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Record statuses (DESIGN 5 lifecycle).
const (
	StatusActive  = "active"
	StatusExited  = "exited"
	StatusRevoked = "revoked"
	StatusPurged  = "purged"
)

// PolicyRef binds a record to the policy version active at its creation.
type PolicyRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// HistoryEntry is one transaction in a record's history.
type HistoryEntry struct {
	TxID   string    `json:"tx_id"`
	Type   string    `json:"type"`
	Height uint64    `json:"height"`
	Time   time.Time `json:"time"`
}

// Attestation is a fact attested by the record's authority.
type Attestation struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	TxID string    `json:"tx_id"`
}

// Repair is the state of a record's credit repair.
type Repair struct {
	Status      string    `json:"status"` // none|pending|approved|rejected
	Application string    `json:"application,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
}

// Exit is how a record left the list.
type Exit struct {
	TxID   string    `json:"tx_id"`
	Height uint64    `json:"height"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
}

// Record is a dishonesty record: created by record.create, changed by the
// transactions that name it.
type Record struct {
	ID           string         `json:"record_id"`
	Subject      txn.Subject    `json:"subject"`
	Category     string         `json:"category"`
	Authority    string         `json:"authority"`
	Measures     []string       `json:"measures"`
	Basis        txn.Basis      `json:"basis"`
	Start        time.Time      `json:"start"`
	Term         string         `json:"term,omitempty"`
	Policy       PolicyRef      `json:"policy"`
	Status       string         `json:"status"`
	ReportRef    string         `json:"report_ref,omitempty"`
	Attestations []Attestation  `json:"attestations,omitempty"`
	Repair       Repair         `json:"repair"`
	Exit         *Exit          `json:"exit,omitempty"`
	Revoked      *Exit          `json:"revoked,omitempty"`
	Certificate  string         `json:"certificate,omitempty"`
	History      []HistoryEntry `json:"history"`
}

// Report is a report.submit: information any member sends.
type Report struct {
	ID        string      `json:"id"`
	Subject   txn.Subject `json:"subject"`
	Category  string      `json:"category"`
	Submitter string      `json:"submitter"`
	Height    uint64      `json:"height"`
}

// RepairApplication is a repair.apply awaiting or past its decision.
type RepairApplication struct {
	ID       string `json:"id"`
	RecordID string `json:"record_id"`
	Status   string `json:"status"` // pending|approved|rejected
}

// Objection is an objection.file and its outcome.
type Objection struct {
	ID       string `json:"id"`
	RecordID string `json:"record_id"`
	Status   string `json:"status"` // open|upheld|dismissed
}

// Certificate is an issued exit certificate as recorded on the ledger.
type Certificate struct {
	CertNo   string `json:"cert_no"`
	RecordID string `json:"record_id"`
	ExitTx   string `json:"exit_tx"`
	CertHash string `json:"cert_hash"`
	Status   string `json:"status"` // valid|revoked
	TxID     string `json:"tx_id"`
}

// PolicyVersion is one version of a policy and its approvals.
type PolicyVersion struct {
	Policy    policy.Policy `json:"policy"`
	Approvals []string      `json:"approvals"`
	Active    bool          `json:"active"`
	Proposed  uint64        `json:"proposed_height"`
}

// PolicyState is every version of one policy id; Active is the version in
// force for new records (0 when none yet).
type PolicyState struct {
	ID       string          `json:"id"`
	Active   int             `json:"active"`
	Versions []PolicyVersion `json:"versions"`
}

// Version returns version v.
func (p *PolicyState) Version(v int) (*PolicyVersion, bool) {
	for i := range p.Versions {
		if p.Versions[i].Policy.Version == v {
			return &p.Versions[i], true
		}
	}
	return nil, false
}

// StateReader reads committed state. Getters return nil (and no error) for
// absent entities.
type StateReader interface {
	Record(ctx context.Context, id string) (*Record, error)
	Committed(ctx context.Context, txID string) (bool, error)
	Report(ctx context.Context, id string) (*Report, error)
	RepairApplication(ctx context.Context, id string) (*RepairApplication, error)
	Objection(ctx context.Context, id string) (*Objection, error)
	Certificate(ctx context.Context, certNo string) (*Certificate, error)
	Policy(ctx context.Context, id string) (*PolicyState, error)
	// Membership is the epoch in force for the next block.
	Membership(ctx context.Context) (*membership.Epoch, error)
	// QuorumRule is the genesis quorum rule.
	QuorumRule() string
}
