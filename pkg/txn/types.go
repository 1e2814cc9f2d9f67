// Package txn is the transaction envelope of the public contract (DESIGN
// 9.3, 9.6, 9.7): its canonical bytes, id and signature, the payloads of the
// fifteen transaction types, strict decoding of request bodies, and the
// stateless field checks that intake makes before anything reaches the
// ledger. It does no I/O: the caller supplies the time.
package txn

// Transaction types (DESIGN 9.3).
const (
	TypeReportSubmit      = "report.submit"
	TypeRecordCreate      = "record.create"
	TypeRecordAttest      = "record.attest"
	TypeRepairApply       = "repair.apply"
	TypeRepairDecide      = "repair.decide"
	TypeObjectionFile     = "objection.file"
	TypeObjectionResolve  = "objection.resolve"
	TypeRecordRevoke      = "record.revoke"
	TypeRecordExit        = "record.exit"
	TypeRecordPurge       = "record.purge"
	TypeCertificateIssue  = "certificate.issue"
	TypeCertificateRevoke = "certificate.revoke"
	TypeMemberUpdate      = "member.update"
	TypePolicyPropose     = "policy.propose"
	TypePolicyApprove     = "policy.approve"
)

// Types lists every transaction type in contract order.
var Types = []string{
	TypeReportSubmit, TypeRecordCreate, TypeRecordAttest, TypeRepairApply,
	TypeRepairDecide, TypeObjectionFile, TypeObjectionResolve, TypeRecordRevoke,
	TypeRecordExit, TypeRecordPurge, TypeCertificateIssue, TypeCertificateRevoke,
	TypeMemberUpdate, TypePolicyPropose, TypePolicyApprove,
}

// KnownType reports whether t is one of the contract's transaction types.
func KnownType(t string) bool {
	_, ok := payloadTypes[t]
	return ok
}
