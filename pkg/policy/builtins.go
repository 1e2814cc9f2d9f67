package policy

// Attestation kinds the built-in policies read (record.attest, DESIGN 9.5).
const (
	KindPerformed             = "performed"
	KindSettled               = "settled"
	KindCreditorWithdrew      = "creditor_withdrew"
	KindNoAssetsFound         = "no_assets_found"
	KindEnforcementSuspended  = "enforcement_suspended"
	KindEnforcementNotAllowed = "enforcement_not_allowed"
	KindEnforcementTerminated = "enforcement_terminated"
)

// Built-in policy ids, which are also the genesis record categories.
const (
	CourtDefaulter    = "court-defaulter"
	SeriousDishonesty = "serious-dishonesty"
	GeneralDishonesty = "general-dishonesty"
	MinorDishonesty   = "minor-dishonesty"
)

// Builtins returns the genesis policies, version 1 each, in a fixed order.
// Each call returns fresh copies. docs/policies.md explains each rule and its
// legal basis; keep the two in step.
func Builtins() []*Policy {
	return []*Policy{
		courtDefaulter(), seriousDishonesty(), generalDishonesty(), minorDishonesty(),
	}
}

// courtDefaulter follows the SPC Provisions on Publishing the List of
// Dishonest Judgment Debtors (2017 amendment). A listing with a term (art. 2:
// two years, extended by one to three at creation) ends when the term ends,
// or earlier when the court finds the obligations performed (art. 2 para. 2);
// art. 10 para. 2 excludes the other art. 10 grounds for it. A listing
// without a term (art. 1(1), able but refuses) ends only on an art. 10
// para. 1 ground.
func courtDefaulter() *Policy {
	return &Policy{
		ID:      CourtDefaulter,
		Version: 1,
		Eligible: `has(record.end)
  ? now >= record.end
    || record.attestations.exists(a, a.kind in ["performed", "settled"])
  : record.attestations.exists(a, a.kind in [
      "performed", "settled", "creditor_withdrew", "no_assets_found",
      "enforcement_suspended", "enforcement_not_allowed", "enforcement_terminated"])`,
		Due:        `has(record.end) ? record.end : never`,
		PurgeAfter: "P5Y",
		Description: "失信被执行人（《最高人民法院关于公布失信被执行人名单信息的若干规定》2017年修正）。" +
			"有纳入期限的（第二条：二年，情节严重的可延长一至三年，延长部分在创建记录时计入期限）：期限届满即退出；" +
			"履行完毕或和解协议履行完毕的（第二条第二款），可提前退出；第十条第一款的其他事由不适用（第十条第二款）。" +
			"无期限的（第一条第一项，有履行能力而拒不履行）：仅在出现第十条第一款所列情形之一时退出：" +
			"履行完毕 performed、和解履行完毕 settled、申请执行人书面申请删除 creditor_withdrew、" +
			"终本后两次查询无财产 no_assets_found、中止执行 enforcement_suspended、不予执行 enforcement_not_allowed、终结执行 enforcement_terminated。\n" +
			"Dishonest judgment debtor (SPC provisions on the list of dishonest judgment debtors, 2017). " +
			"A listing with a term (art. 2: two years, extended by one to three years at creation) exits when the term ends, " +
			"or earlier once the obligations or a settlement are performed (art. 2 para. 2); the other art. 10 grounds do not apply to it (art. 10 para. 2). " +
			"A listing without a term (art. 1(1), able but refuses) exits only on an art. 10 para. 1 ground, attested as one of: " +
			"performed, settled, creditor_withdrew, no_assets_found, enforcement_suspended, enforcement_not_allowed, enforcement_terminated.",
	}
}

// seriousDishonesty and generalDishonesty follow the NDRC credit-repair rules:
// publication lasts at most maxPeriod; after minPeriod the subject may be
// repaired (obligations performed and an approved repair decision). A term on
// the record shorter than the maximum ends publication earlier.
func repairable(id, minPeriod, maxPeriod, purgeAfter, description string) *Policy {
	return &Policy{
		ID:      id,
		Version: 1,
		Eligible: `now >= add_period(record.start, "` + maxPeriod + `")
|| has(record.end) && now >= record.end
|| now >= add_period(record.start, "` + minPeriod + `")
   && record.attestations.exists(a, a.kind == "performed")
   && record.repair.status == "approved"`,
		Due: `earliest([
  add_period(record.start, "` + maxPeriod + `"),
  has(record.end) ? record.end : never,
  record.attestations.exists(a, a.kind == "performed") && record.repair.status == "approved"
    ? add_period(record.start, "` + minPeriod + `")
    : never])`,
		PurgeAfter:  purgeAfter,
		Description: description,
	}
}

func seriousDishonesty() *Policy {
	return repairable(SeriousDishonesty, "P1Y", "P3Y", "P5Y",
		"严重失信（国家发展改革委信用修复规定：严重失信信息最短公示期一年，最长公示期三年）。"+
			"自起始日起满三年退出；记录期限更短的，期限届满退出；满一年后，经认定已履行义务（performed）"+
			"且作出机关批准信用修复（repair.status == \"approved\"）的，提前退出。\n"+
			"Serious dishonesty (NDRC credit-repair rules: published for at least one year and at most three). "+
			"Exits three years after the start, or when a shorter term on the record ends; "+
			"after one year it exits early once performance is attested (performed) and the authority approves the credit repair.")
}

func generalDishonesty() *Policy {
	return repairable(GeneralDishonesty, "P3M", "P1Y", "P3Y",
		"一般失信（国家发展改革委信用修复规定：一般失信信息最短公示期三个月，最长公示期一年）。"+
			"自起始日起满一年退出；记录期限更短的，期限届满退出；满三个月后，经认定已履行义务（performed）"+
			"且作出机关批准信用修复的，提前退出。\n"+
			"General dishonesty (NDRC credit-repair rules: published for at least three months and at most one year). "+
			"Exits one year after the start, or when a shorter term on the record ends; "+
			"after three months it exits early once performance is attested (performed) and the authority approves the credit repair.")
}

// minorDishonesty is never published; the record only lasts until the
// liability is discharged, three months at most.
func minorDishonesty() *Policy {
	return &Policy{
		ID:      MinorDishonesty,
		Version: 1,
		Eligible: `record.attestations.exists(a, a.kind == "performed")
|| now >= add_period(record.start, "P3M")
|| has(record.end) && now >= record.end`,
		Due:        `earliest(add_period(record.start, "P3M"), has(record.end) ? record.end : never)`,
		PurgeAfter: "P6M",
		Description: "轻微失信（不予公示）：责任履行完毕（performed）即退出，最长不超过三个月；记录期限更短的，期限届满退出。\n" +
			"Minor dishonesty (not published): exits once the liability is discharged (performed), " +
			"three months after the start at the latest, or when a shorter term on the record ends.",
	}
}
