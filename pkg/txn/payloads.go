package txn

import "github.com/creditchain/creditchain/pkg/membership"

// Payloads of the transaction types (DESIGN 9.6, 9.7). Times are kept as
// the strings that were signed; ParseTime and ParseDuration read them. A
// member tagged omitempty is optional: absent, never null or empty.

// ReportSubmit (report.submit) is dishonesty information sent by any member.
type ReportSubmit struct {
	Subject  Subject  `json:"subject"`
	Category string   `json:"category"`
	Facts    string   `json:"facts"`
	Evidence []string `json:"evidence,omitempty"` // hex hashes
}

// Basis is the legal decision a record rests on; DocumentNo is the case number.
type Basis struct {
	DocumentNo string `json:"document_no"`
	DecidedAt  string `json:"decided_at"`
	Law        string `json:"law"`
}

// RecordCreate (record.create) puts a subject on the list; its record id is
// its tx id.
type RecordCreate struct {
	Subject   Subject  `json:"subject"`
	Category  string   `json:"category"`
	Measures  []string `json:"measures"`
	Basis     Basis    `json:"basis"`
	Start     string   `json:"start"`
	Term      string   `json:"term,omitempty"` // ISO 8601; absent when indefinite
	Policy    string   `json:"policy"`
	ReportRef string   `json:"report_ref,omitempty"` // tx id of a report.submit
}

// RecordAttest (record.attest) attests a fact that policies read, such as
// performance of the obligation.
type RecordAttest struct {
	RecordID     string `json:"record_id"`
	Kind         string `json:"kind"`
	At           string `json:"at"`
	EvidenceHash string `json:"evidence_hash,omitempty"`
}

// RepairApply (repair.apply) applies for credit repair.
type RepairApply struct {
	RecordID   string   `json:"record_id"`
	PledgeHash string   `json:"pledge_hash"`
	Materials  []string `json:"materials"` // hex hashes
}

// RepairDecide (repair.decide) decides a repair application.
type RepairDecide struct {
	RecordID    string `json:"record_id"`
	Application string `json:"application"` // tx id of the repair.apply
	Decision    string `json:"decision"`
	Reason      string `json:"reason,omitempty"`
}

// ObjectionFile (objection.file) objects to a record.
type ObjectionFile struct {
	RecordID string `json:"record_id"`
	Grounds  string `json:"grounds"`
}

// ObjectionResolve (objection.resolve) resolves an objection.
type ObjectionResolve struct {
	Objection string `json:"objection"` // tx id of the objection.file
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
}

// RecordRevoke (record.revoke) revokes a record, e.g. after an upheld objection.
type RecordRevoke struct {
	RecordID string `json:"record_id"`
	Reason   string `json:"reason"`
}

// RecordExit (record.exit) ends a record whose policy holds.
type RecordExit struct {
	RecordID string `json:"record_id"`
	Policy   string `json:"policy"`
	Version  int    `json:"version"`
	Reason   string `json:"reason"`
}

// RecordPurge (record.purge) makes replicas delete a record's personal sidecar.
type RecordPurge struct {
	RecordID string `json:"record_id"`
}

// CertificateIssue (certificate.issue) anchors an exit certificate.
type CertificateIssue struct {
	CertNo   string `json:"cert_no"`
	RecordID string `json:"record_id"`
	ExitTx   string `json:"exit_tx"`
	CertHash string `json:"cert_hash"` // hash of the compact JWS's ASCII bytes
}

// CertificateRevoke (certificate.revoke) revokes a certificate.
type CertificateRevoke struct {
	CertNo string `json:"cert_no"`
	Reason string `json:"reason"`
}

// MemberSpec is the member of a member.update. Only ID is needed to suspend
// or remove; admit and update need every member but Categories, which only
// recorders need.
type MemberSpec struct {
	ID         string           `json:"id"`
	Name       string           `json:"name,omitempty"`
	Kind       string           `json:"kind,omitempty"`
	Roles      []string         `json:"roles,omitempty"`
	Categories []string         `json:"categories,omitempty"`
	Keys       []membership.Key `json:"keys,omitempty"`
}

// MemberUpdate (member.update) changes the membership; only the regulator
// may send it.
type MemberUpdate struct {
	Action string     `json:"action"`
	Member MemberSpec `json:"member"`
}

// PolicyPropose (policy.propose) is a policy version (DESIGN 9.5); it counts
// as the proposer's approval.
type PolicyPropose struct {
	ID          string `json:"id"`
	Version     int    `json:"version"`
	Eligible    string `json:"eligible"`
	Due         string `json:"due"`
	PurgeAfter  string `json:"purge_after"`
	Description string `json:"description"`
}

// PolicyApprove (policy.approve) approves a proposed policy version.
type PolicyApprove struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// payloadTypes maps each transaction type to a constructor of its payload.
var payloadTypes = map[string]func() any{
	TypeReportSubmit:      func() any { return new(ReportSubmit) },
	TypeRecordCreate:      func() any { return new(RecordCreate) },
	TypeRecordAttest:      func() any { return new(RecordAttest) },
	TypeRepairApply:       func() any { return new(RepairApply) },
	TypeRepairDecide:      func() any { return new(RepairDecide) },
	TypeObjectionFile:     func() any { return new(ObjectionFile) },
	TypeObjectionResolve:  func() any { return new(ObjectionResolve) },
	TypeRecordRevoke:      func() any { return new(RecordRevoke) },
	TypeRecordExit:        func() any { return new(RecordExit) },
	TypeRecordPurge:       func() any { return new(RecordPurge) },
	TypeCertificateIssue:  func() any { return new(CertificateIssue) },
	TypeCertificateRevoke: func() any { return new(CertificateRevoke) },
	TypeMemberUpdate:      func() any { return new(MemberUpdate) },
	TypePolicyPropose:     func() any { return new(PolicyPropose) },
	TypePolicyApprove:     func() any { return new(PolicyApprove) },
}
