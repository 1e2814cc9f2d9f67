package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
)

func writePolicyFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// generalSixMonths is general-dishonesty version 2 with publication ending
// after six months.
func generalSixMonths(t *testing.T) *policy.Policy {
	t.Helper()
	for _, p := range policy.Builtins() {
		if p.ID == policy.GeneralDishonesty {
			p.Version = 2
			p.Eligible = strings.ReplaceAll(p.Eligible, `"P1Y"`, `"P6M"`)
			p.Due = strings.ReplaceAll(p.Due, `"P1Y"`, `"P6M"`)
			p.Description = "一般失信第2版：最长公示六个月。\nGeneral dishonesty v2: six months at most."
			return p
		}
	}
	t.Fatal("no general-dishonesty built-in")
	return nil
}

func TestPolicyTestEvaluatesOffline(t *testing.T) {
	dir := t.TempDir()
	// A record.create payload: start and term are what the policy reads.
	created := writePolicyFile(t, dir, "create.json", testPayload)
	// A replica record document with a performed attestation.
	doc := writePolicyFile(t, dir, "doc.json", `{"record_id": "ab", "category": "court-defaulter", "start": "2026-01-05T00:00:00Z",
		"term": "P2Y", "measures": ["travel_ban"], "status": "active", "policy": {"id": "court-defaulter", "version": 1},
		"attestations": [{"kind": "performed", "at": "2026-03-01T00:00:00Z", "tx_id": "cd"}], "repair": {"status": "none"}}`)
	v2, _ := json.Marshal(generalSixMonths(t))
	v2File := writePolicyFile(t, dir, "v2.json", string(v2))
	general := writePolicyFile(t, dir, "general.json", `{"category": "general-dishonesty", "start": "2026-01-05T00:00:00Z"}`)

	cases := []struct {
		name, policy, record, at string
		eligible                 bool
		due                      string
	}{
		{"term not yet over", "court-defaulter", created, "2028-01-04T23:59:59Z", false, "2028-01-05T00:00:00Z"},
		{"term over", "court-defaulter", created, "2028-01-05T00:00:00Z", true, "2028-01-05T00:00:00Z"},
		{"performed early", "court-defaulter", doc, "2026-04-01T00:00:00Z", true, "2026-04-01T00:00:00Z"},
		{"v1 at seven months", "general-dishonesty", general, "2026-08-05T00:00:00Z", false, "2027-01-05T00:00:00Z"},
		{"v2 file at seven months", v2File, general, "2026-08-05T00:00:00Z", true, "2026-07-05T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCmd(t, "policy", "test", "--policy", c.policy, "--record", c.record, "--at", c.at, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var res policyTestResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if res.Eligible != c.eligible || res.Due != c.due || res.At != c.at {
				t.Fatalf("got %+v, want eligible %t due %s at %s", res, c.eligible, c.due, c.at)
			}
		})
	}

	// Indefinite listing: no due time; the text output says so.
	indefinite := writePolicyFile(t, dir, "indefinite.json", `{"category": "court-defaulter", "start": "2026-01-05T00:00:00Z"}`)
	code, out, errs := runCmd(t, "policy", "test", "--policy", "court-defaulter", "--record", indefinite, "--at", "2030-01-01T00:00:00+08:00")
	if code != 0 || !strings.Contains(out, "eligible:    false") || !strings.Contains(out, "due:         never") ||
		!strings.Contains(out, "at:          2029-12-31T16:00:00Z") || !strings.Contains(out, "purge_after: P5Y") {
		t.Fatalf("indefinite listing: exit %d\n%s%s", code, out, errs)
	}
}

func TestPolicyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	rec := writePolicyFile(t, dir, "rec.json", `{"start": "2026-01-05T00:00:00Z"}`)
	broken := writePolicyFile(t, dir, "broken.json", `{"id": "x-policy", "version": 1, "eligible": "now >", "due": "never",
		"purge_after": "P1Y", "description": "broken"}`)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", []string{"policy"}, 2, "usage"},
		{"unknown subcommand", []string{"policy", "delete"}, 2, "unknown subcommand"},
		{"test without record", []string{"policy", "test", "--policy", "court-defaulter"}, 2, "required"},
		{"bad --at", []string{"policy", "test", "--policy", "court-defaulter", "--record", rec, "--at", "tomorrow"}, 2, "--at"},
		{"unknown policy", []string{"policy", "test", "--policy", "no-such-policy", "--record", rec}, 1, "nor a built-in policy id"},
		{"broken policy", []string{"policy", "test", "--policy", broken, "--record", rec}, 1, "eligible"},
		{"record without start", []string{"policy", "test", "--policy", "court-defaulter", "--record", writePolicyFile(t, dir, "e.json", `{}`)}, 1, "no start"},
		{"propose broken policy", []string{"policy", "propose", "--key", rec, "--network", rec, "--policy", broken}, 1, "eligible"},
		{"approve without version", []string{"policy", "approve", "--key", rec, "--network", rec, "--id", "x"}, 2, "--version"},
		{"list without database", []string{"policy", "list", "--database", ""}, 2, "--database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCmd(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Fatalf("exit %d (want %d), stderr %q lacks %q", code, c.code, errs, c.msg)
			}
		})
	}
}

// TestPolicyProposeApproveList runs the governance commands against a real
// in-process network: a proposal stays "proposed" until a majority of the
// four recorders approve, the regulator's approval is refused at intake,
// and list shows the versions as the replica holds them.
func TestPolicyProposeApproveList(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, dir := startTestNetwork(ctx, t)
	netFile := filepath.Join(dir, "network.json")
	key := func(i int) string { return filepath.Join(dir, "keys", n.Institutions[i].Member.ID+".json") }
	const center, market, tax, ecology = 0, 2, 3, 4
	db, err := n.ReplicaURL(ctx, n.Institutions[center].Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	// statusOf waits until list shows general-dishonesty version v as want.
	statusOf := func(v, want string) {
		t.Helper()
		var out string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			code, o, errs := runCmd(t, "policy", "list", "--database", db)
			if code != 0 {
				t.Fatalf("list: exit %d: %s", code, errs)
			}
			out = o
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) >= 3 && f[0] == policy.GeneralDishonesty && f[1] == v && f[2] == want {
					return
				}
			}
		}
		t.Fatalf("general-dishonesty v%s is not %s:\n%s", v, want, out)
	}

	v2, _ := json.Marshal(generalSixMonths(t))
	polFile := writePolicyFile(t, dir, "v2.json", string(v2))
	code, out, errs := runCmd(t, "policy", "propose", "--key", key(market), "--network", netFile, "--policy", polFile)
	if code != 0 || !strings.Contains(out, "committed at height") {
		t.Fatalf("propose: exit %d\n%s%s", code, out, errs)
	}
	statusOf("2", "proposed")
	statusOf("1", "active")

	code, out, errs = runCmd(t, "policy", "approve", "--key", key(tax), "--network", netFile, "--id", policy.GeneralDishonesty, "--version", "2")
	if code != 0 || !strings.Contains(out, "committed at height") {
		t.Fatalf("approve by tax: exit %d\n%s%s", code, out, errs)
	}
	statusOf("2", "proposed")

	code, out, errs = runCmd(t, "policy", "approve", "--key", key(center), "--network", netFile, "--id", policy.GeneralDishonesty, "--version", "2")
	if code != 1 || !strings.Contains(errs, "403") || !strings.Contains(errs, "forbidden_role") {
		t.Fatalf("approve by the regulator: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "policy", "approve", "--key", key(tax), "--network", netFile, "--id", policy.GeneralDishonesty, "--version", "2")
	if code != 1 || !strings.Contains(out, "rejected: already_approved") {
		t.Fatalf("second approval by tax: exit %d\n%s%s", code, out, errs)
	}

	code, out, errs = runCmd(t, "policy", "approve", "--key", key(ecology), "--network", netFile, "--id", policy.GeneralDishonesty, "--version", "2")
	if code != 0 {
		t.Fatalf("approve by ecology: exit %d\n%s%s", code, out, errs)
	}
	statusOf("2", "active")
	statusOf("1", "superseded")

	code, out, errs = runCmd(t, "policy", "list", "--database", db, "--json")
	if code != 0 {
		t.Fatalf("list --json: exit %d: %s", code, errs)
	}
	var states []ledger.PolicyState
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		t.Fatalf("list --json output: %v\n%s", err, out)
	}
	found := false
	for _, ps := range states {
		if ps.ID == policy.GeneralDishonesty {
			found = true
			v, ok := ps.Version(2)
			if ps.Active != 2 || !ok || len(v.Approvals) != 3 || v.Policy.Eligible != generalSixMonths(t).Eligible {
				t.Fatalf("general-dishonesty state %+v", ps)
			}
		}
	}
	if !found || len(states) != len(policy.Builtins()) {
		t.Fatalf("list --json holds %d policies, want the %d built-ins", len(states), len(policy.Builtins()))
	}

	// Proposing version 2 again conflicts: the next version is 3.
	code, out, errs = runCmd(t, "policy", "propose", "--key", key(market), "--network", netFile, "--policy", polFile)
	if code != 1 || !strings.Contains(out, "rejected: version_conflict") {
		t.Fatalf("second proposal of v2: exit %d\n%s%s", code, out, errs)
	}
}
