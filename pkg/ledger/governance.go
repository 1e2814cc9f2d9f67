package ledger

import (
	"context"
	"slices"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/txn"
)

// updateMembership makes the next epoch. The regulator governs membership and
// nothing else (DESIGN 2): Authorize already limited member.update to it.
func (x *Executor) updateMembership(ctx context.Context, b *Batch, blk Block, p *txn.MemberUpdate) error {
	cur, err := b.nextMembership(ctx)
	if err != nil {
		return err
	}
	next := &membership.Epoch{Epoch: cur.Epoch + 1, FromHeight: blk.Height + 1, Members: slices.Clone(cur.Members)}
	idx := slices.IndexFunc(next.Members, func(m membership.Member) bool { return m.ID == p.Member.ID })
	switch p.Action {
	case "admit":
		if idx >= 0 && next.Members[idx].Status != membership.StatusRemoved {
			return reject("member_exists", "%s is already a member", p.Member.ID)
		}
		m := memberFrom(p)
		if idx >= 0 {
			next.Members[idx] = m
		} else {
			next.Members = append(next.Members, m)
		}
	case "update":
		if idx < 0 || next.Members[idx].Status == membership.StatusRemoved {
			return reject("unknown_member", "%s is not a member", p.Member.ID)
		}
		m := memberFrom(p)
		m.Status = next.Members[idx].Status
		next.Members[idx] = m
	case "suspend", "remove":
		if idx < 0 || next.Members[idx].Status == membership.StatusRemoved {
			return reject("unknown_member", "%s is not a member", p.Member.ID)
		}
		m := next.Members[idx]
		m.Status = membership.StatusSuspended
		if p.Action == "remove" {
			m.Status = membership.StatusRemoved
		}
		next.Members[idx] = m
	default:
		return reject("malformed", "unknown member.update action %q", p.Action)
	}
	if len(next.Recorders()) == 0 {
		return reject("invalid_membership", "the change would leave no active recorder")
	}
	b.Epoch = next
	return nil
}

func memberFrom(p *txn.MemberUpdate) membership.Member {
	m := membership.Member{ID: p.Member.ID, Name: p.Member.Name, Kind: p.Member.Kind,
		Roles: slices.Clone(p.Member.Roles), Categories: slices.Clone(p.Member.Categories),
		Status: membership.StatusActive}
	for _, k := range p.Member.Keys {
		m.Keys = append(m.Keys, membership.Key{KeyID: k.KeyID, Alg: k.Alg, Public: k.Public})
	}
	return m
}

// proposePolicy records a new policy version with the proposer's approval.
func (x *Executor) proposePolicy(ctx context.Context, b *Batch, blk Block, submitter string, p *txn.PolicyPropose, m *membership.Epoch) error {
	pol := policy.Policy(*p)
	if _, err := policy.Compile(&pol); err != nil {
		return reject("invalid_policy", "%v", err)
	}
	ps, err := b.Policy(ctx, pol.ID)
	if err != nil {
		return err
	}
	next := &PolicyState{ID: pol.ID}
	if ps != nil {
		next = ps.clone()
	}
	want := 1
	for _, v := range next.Versions {
		want = max(want, v.Policy.Version+1)
	}
	if pol.Version != want {
		return reject("version_conflict", "policy %s: the next version is %d, not %d", pol.ID, want, pol.Version)
	}
	next.Versions = append(next.Versions, PolicyVersion{Policy: pol, Approvals: []string{submitter}, Proposed: blk.Height})
	activateIfMajority(next, len(next.Versions)-1, m)
	b.Policies[pol.ID] = next
	return nil
}

// approvePolicy adds a recorder's approval (多数节点监督).
func (x *Executor) approvePolicy(ctx context.Context, b *Batch, submitter string, p *txn.PolicyApprove, m *membership.Epoch) error {
	ps, err := b.Policy(ctx, p.ID)
	if err != nil {
		return err
	}
	if ps == nil {
		return reject("unknown_policy", "no policy %q", p.ID)
	}
	next := ps.clone()
	i := slices.IndexFunc(next.Versions, func(v PolicyVersion) bool { return v.Policy.Version == p.Version })
	if i < 0 {
		return reject("unknown_policy", "no version %d of policy %q", p.Version, p.ID)
	}
	v := &next.Versions[i]
	if v.Active || next.Active > v.Policy.Version {
		return reject("invalid_status", "policy %s@%d is already decided", p.ID, p.Version)
	}
	if slices.Contains(v.Approvals, submitter) {
		return reject("already_approved", "%s already approved %s@%d", submitter, p.ID, p.Version)
	}
	v.Approvals = append(v.Approvals, submitter)
	activateIfMajority(next, i, m)
	b.Policies[p.ID] = next
	return nil
}

// activateIfMajority makes version i active once a majority of the recorders
// in force approve it.
func activateIfMajority(ps *PolicyState, i int, m *membership.Epoch) {
	recorders := m.Recorders()
	need, _ := membership.QuorumSize(membership.QuorumMajority, len(recorders))
	n := 0
	for _, r := range recorders {
		if slices.Contains(ps.Versions[i].Approvals, r.ID) {
			n++
		}
	}
	if n < need {
		return
	}
	for j := range ps.Versions {
		ps.Versions[j].Active = j == i
	}
	ps.Active = ps.Versions[i].Policy.Version
}

func (p *PolicyState) clone() *PolicyState {
	c := &PolicyState{ID: p.ID, Active: p.Active, Versions: slices.Clone(p.Versions)}
	for i := range c.Versions {
		c.Versions[i].Approvals = slices.Clone(c.Versions[i].Approvals)
	}
	return c
}

// GenesisPolicies is the policy state the genesis installs: every built-in
// policy active at version 1, approved by the genesis itself.
func GenesisPolicies(pols []*policy.Policy) map[string]*PolicyState {
	out := map[string]*PolicyState{}
	for _, p := range pols {
		out[p.ID] = &PolicyState{ID: p.ID, Active: p.Version, Versions: []PolicyVersion{{Policy: *p, Active: true}}}
	}
	return out
}
