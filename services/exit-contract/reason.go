package exitcontract

import (
	"fmt"
	"slices"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
)

// ground is why a record may exit, in Chinese and English.
type ground struct{ zh, en string }

// attestationGrounds names the attested facts of DESIGN 9.5.
var attestationGrounds = map[string]ground{
	policy.KindPerformed:             {"已履行完毕法律文书确定的义务", "the obligations were performed"},
	policy.KindSettled:               {"执行和解协议已履行完毕", "the enforcement settlement was performed"},
	policy.KindCreditorWithdrew:      {"申请执行人书面申请删除失信信息", "the creditor applied in writing to delete the entry"},
	policy.KindNoAssetsFound:         {"终结本次执行程序后经两次以上查询未发现财产", "no assets were found after terminating this round of enforcement"},
	policy.KindEnforcementSuspended:  {"人民法院裁定中止执行", "the court suspended enforcement"},
	policy.KindEnforcementNotAllowed: {"人民法院裁定不予执行", "the court ruled not to enforce"},
	policy.KindEnforcementTerminated: {"人民法院裁定终结执行", "the court terminated enforcement"},
}

// groundOrder puts the grounds that end every listing (performance,
// settlement: art. 2 para. 2) before those that end only indefinite ones
// (art. 10 para. 1), so that a termed listing is never said to end on a
// ground its policy ignores.
var groundOrder = []string{
	policy.KindPerformed, policy.KindSettled, policy.KindCreditorWithdrew, policy.KindNoAssetsFound,
	policy.KindEnforcementSuspended, policy.KindEnforcementNotAllowed, policy.KindEnforcementTerminated,
}

// maxPeriods is the longest publication of the built-in administrative
// categories (docs/policies.md section 7).
var maxPeriods = map[string]struct {
	period string
	g      ground
}{
	policy.SeriousDishonesty: {"P3Y", ground{"严重失信信息最长公示期（三年）届满", "the longest publication period of serious dishonesty (three years) ended"}},
	policy.GeneralDishonesty: {"P1Y", ground{"一般失信信息最长公示期（一年）届满", "the longest publication period of general dishonesty (one year) ended"}},
	policy.MinorDishonesty:   {"P3M", ground{"轻微失信记录最长期限（三个月）届满", "the longest duration of a minor dishonesty record (three months) ended"}},
}

// exitReason names the ground on which r may exit at block time at, for the
// record.exit reason and the certificate. Consensus does not read it: it
// re-evaluates the policy. Time grounds come first because they hold
// whatever else happened; then credit repair, then attested facts.
func exitReason(r *ledger.Record, p policy.Policy, at time.Time) string {
	g := findGround(r, p, at)
	return fmt.Sprintf("依据退出策略 %s 第%d版退出：%s。Exit under policy %s version %d: %s.",
		p.ID, p.Version, g.zh, p.ID, p.Version, g.en)
}

func findGround(r *ledger.Record, p policy.Policy, at time.Time) ground {
	start := r.Start.UTC()
	if r.Term != "" {
		if d, err := policy.ParseDuration(r.Term); err == nil {
			if end := d.AddTo(start); !at.Before(end) {
				ts := end.Format(time.RFC3339)
				return ground{"纳入期限（" + r.Term + "）于 " + ts + " 届满", "the term (" + r.Term + ") ended at " + ts}
			}
		}
	}
	if m, ok := maxPeriods[p.ID]; ok {
		if !at.Before(policy.MustParseDuration(m.period).AddTo(start)) {
			return m.g
		}
	}
	performed := slices.ContainsFunc(r.Attestations, func(a ledger.Attestation) bool { return a.Kind == policy.KindPerformed })
	repairs := p.ID != policy.CourtDefaulter && p.ID != policy.MinorDishonesty
	if repairs && performed && r.Repair.Status == policy.RepairApproved {
		return ground{"已履行相关义务，且作出认定的机关已批准信用修复", "the obligations were performed and the authority approved the credit repair"}
	}
	for _, kind := range groundOrder {
		if slices.ContainsFunc(r.Attestations, func(a ledger.Attestation) bool { return a.Kind == kind }) {
			return attestationGrounds[kind]
		}
	}
	return ground{"退出策略规定的条件已满足", "the conditions of the exit policy are met"}
}
