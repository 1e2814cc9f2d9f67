package txn

import (
	"fmt"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
)

func (s *Subject) validate(v *validator, path string) {
	switch s.Kind {
	case SubjectOrganization:
		v.uscc(path+".uscc", s.USCC)
		v.nonEmpty(path+".name", s.Name)
		if s.Commitment != "" {
			v.malformed(path+".commitment", "an organization is named in clear, without a commitment")
		}
	case SubjectPerson:
		// No plaintext personal data on the ledger (PIPL): it goes in the sidecar.
		if s.USCC != "" || s.Name != "" {
			v.malformed(path, "a person subject carries only its commitment; name and id go in the personal sidecar")
		}
		v.hash(path+".commitment", s.Commitment)
	default:
		v.malformed(path+".kind", "%q is not organization or person", s.Kind)
	}
}

func (p *ReportSubmit) validate(v *validator) {
	p.Subject.validate(v, "payload.subject")
	v.nonEmpty("payload.category", p.Category)
	v.nonEmpty("payload.facts", p.Facts)
	v.hashes("payload.evidence", p.Evidence)
}

func (p *RecordCreate) validate(v *validator) {
	p.Subject.validate(v, "payload.subject")
	v.nonEmpty("payload.category", p.Category)
	v.strings("payload.measures", p.Measures)
	v.nonEmpty("payload.basis.document_no", p.Basis.DocumentNo)
	v.time("payload.basis.decided_at", p.Basis.DecidedAt)
	v.nonEmpty("payload.basis.law", p.Basis.Law)
	v.time("payload.start", p.Start)
	if p.Term != "" {
		v.duration("payload.term", p.Term)
	}
	v.nonEmpty("payload.policy", p.Policy)
	v.optionalHash("payload.report_ref", p.ReportRef)
}

func (p *RecordAttest) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.enum("payload.kind", p.Kind, AttestationKinds...)
	v.time("payload.at", p.At)
	v.optionalHash("payload.evidence_hash", p.EvidenceHash)
}

func (p *RepairApply) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.hash("payload.pledge_hash", p.PledgeHash)
	v.hashes("payload.materials", p.Materials)
}

func (p *RepairDecide) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.hash("payload.application", p.Application)
	v.enum("payload.decision", p.Decision, DecisionApproved, DecisionRejected)
}

func (p *ObjectionFile) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.nonEmpty("payload.grounds", p.Grounds)
}

func (p *ObjectionResolve) validate(v *validator) {
	v.hash("payload.objection", p.Objection)
	v.enum("payload.outcome", p.Outcome, OutcomeUpheld, OutcomeDismissed)
}

func (p *RecordRevoke) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.nonEmpty("payload.reason", p.Reason)
}

func (p *RecordExit) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
	v.nonEmpty("payload.policy", p.Policy)
	v.version("payload.version", p.Version)
	v.nonEmpty("payload.reason", p.Reason)
}

func (p *RecordPurge) validate(v *validator) {
	v.hash("payload.record_id", p.RecordID)
}

func (p *CertificateIssue) validate(v *validator) {
	v.nonEmpty("payload.cert_no", p.CertNo)
	v.hash("payload.record_id", p.RecordID)
	v.hash("payload.exit_tx", p.ExitTx)
	v.hash("payload.cert_hash", p.CertHash)
}

func (p *CertificateRevoke) validate(v *validator) {
	v.nonEmpty("payload.cert_no", p.CertNo)
	v.nonEmpty("payload.reason", p.Reason)
}

var memberRoles = []string{membership.RoleRecorder, membership.RoleSubmitter,
	membership.RoleRegulator, membership.RoleIssuer}

func (p *MemberUpdate) validate(v *validator) {
	v.enum("payload.action", p.Action, MemberActions...)
	m := &p.Member
	v.uscc("payload.member.id", m.ID)
	full := p.Action == ActionAdmit || p.Action == ActionUpdate
	// Members other than id are optional to suspend or remove, but checked
	// whenever present.
	if full || m.Name != "" {
		v.nonEmpty("payload.member.name", m.Name)
	}
	if full || m.Kind != "" {
		v.enum("payload.member.kind", m.Kind, membership.Kinds...)
	}
	if full && len(m.Roles) == 0 {
		v.malformed("payload.member.roles", "a member needs at least one role")
	}
	v.strings("payload.member.roles", m.Roles)
	for i, r := range m.Roles {
		v.enum(fmt.Sprintf("payload.member.roles[%d]", i), r, memberRoles...)
	}
	v.strings("payload.member.categories", m.Categories)
	if full && len(m.Keys) == 0 {
		v.malformed("payload.member.keys", "a member needs at least one key")
	}
	seen := map[string]bool{}
	for i, k := range m.Keys {
		path := fmt.Sprintf("payload.member.keys[%d]", i)
		v.enum(path+".alg", k.Alg, SigAlgs...)
		if err := suite.CheckPublicKey(k.Alg, k.Public); err != nil {
			v.malformed(path+".public", "%v", err)
			continue
		}
		if want := suite.KeyID(k.Alg, k.Public); k.KeyID != want {
			v.malformed(path+".key_id", "%q, the public key gives %q", k.KeyID, want)
		}
		if seen[k.KeyID] {
			v.malformed(path+".key_id", "duplicate %q", k.KeyID)
		}
		seen[k.KeyID] = true
	}
}

func (p *PolicyPropose) validate(v *validator) {
	v.nonEmpty("payload.id", p.ID)
	v.version("payload.version", p.Version)
	v.nonEmpty("payload.eligible", p.Eligible)
	v.nonEmpty("payload.due", p.Due)
	v.duration("payload.purge_after", p.PurgeAfter)
	v.nonEmpty("payload.description", p.Description)
}

func (p *PolicyApprove) validate(v *validator) {
	v.nonEmpty("payload.id", p.ID)
	v.version("payload.version", p.Version)
}
