package ledger

import (
	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/membership"
)

// roleFor is who may submit each transaction type as far as membership alone
// decides (DESIGN 5, 9.7). Checks that need ledger state (the record's
// authority, a policy holding) are made in consensus.
var roleFor = map[string]string{
	"report.submit":      "", // any active member
	"record.create":      membership.RoleRecorder,
	"record.attest":      membership.RoleRecorder,
	"repair.apply":       "",
	"repair.decide":      membership.RoleRecorder,
	"objection.file":     "",
	"objection.resolve":  membership.RoleRecorder,
	"record.revoke":      membership.RoleRecorder,
	"record.exit":        membership.RoleRecorder,
	"record.purge":       membership.RoleRecorder,
	"certificate.issue":  membership.RoleIssuer,
	"certificate.revoke": membership.RoleIssuer,
	"member.update":      membership.RoleRegulator,
	"policy.propose":     membership.RoleRecorder,
	"policy.approve":     membership.RoleRecorder,
}

// Authorize checks what membership alone decides: the submitter is an active
// member holding key keyID, with the role the type needs, and, for
// record.create, the category among those it may record. category is empty for
// other types.
func Authorize(e *membership.Epoch, submitter, keyID, txType, category string) (*membership.Member, membership.Key, *apierr.Error) {
	m, ok := e.Member(submitter)
	if !ok || !m.Active() {
		return nil, membership.Key{}, apierr.New(401, "unknown_key", "submitter %s is not an active member", submitter)
	}
	k, ok := m.Key(keyID)
	if !ok {
		return nil, membership.Key{}, apierr.New(401, "unknown_key", "key %s is not a key of %s", keyID, submitter)
	}
	role, known := roleFor[txType]
	if !known {
		return nil, membership.Key{}, apierr.Malformed("unknown transaction type %q", txType)
	}
	if role != "" && !m.HasRole(role) {
		return nil, membership.Key{}, apierr.New(403, "forbidden_role", "%s needs the %s role; %s does not hold it", txType, role, submitter)
	}
	if txType == "record.create" && !m.MayRecord(category) {
		return nil, membership.Key{}, apierr.New(403, "forbidden_category", "%s may not record category %q", submitter, category)
	}
	return m, k, nil
}
