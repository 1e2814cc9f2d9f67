package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// policySubcommands are the subcommands of "creditchain policy".
var policySubcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"propose": runPolicyPropose,
	"approve": runPolicyApprove,
	"list":    runPolicyList,
	"test": func(args []string, stdout, stderr io.Writer) int {
		return runPolicyTest(time.Now(), args, stdout, stderr)
	},
}

func init() {
	register("policy", "exit policies: policy propose|approve|list|test", runPolicy)
}

func runPolicy(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		policyUsage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		policyUsage(stdout)
		return 0
	}
	run, ok := policySubcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "creditchain policy: unknown subcommand %q\n", args[0])
		policyUsage(stderr)
		return 2
	}
	return run(args[1:], stdout, stderr)
}

func policyUsage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  creditchain policy propose --key FILE --network FILE --policy FILE [--wait D]
  creditchain policy approve --key FILE --network FILE --id ID --version N [--wait D]
  creditchain policy list --database URL [--json]
  creditchain policy test --policy FILE|ID --record FILE [--at TIME] [--json]

propose   signs a policy.propose with the recorder's key and submits it to the
          network's intake (network.json gives intake_url and chain_id); the
          policy is decoded and compiled first, so a broken one never leaves
          this machine. The proposal counts as the proposer's approval.
approve   signs and submits a policy.approve {id, version}. A version becomes
          active once a majority of the recorders approved it, for records
          created afterwards.
list      prints every version of every policy on a replica, with its status
          (active, proposed or superseded) and its approvals.
test      evaluates a policy (a JSON file, or the id of a built-in policy) against
          a record (a replica record document, a GET /v1/records answer or a
          record.create payload) at block time --at (RFC 3339, default now),
          offline, and prints eligible and due.

Exit 0 on success, 1 on failure (a rejected transaction, an invalid policy or
record), 2 on a usage error.`)
}

// newPolicyFlags makes a flag set whose usage is the policy usage.
func newPolicyFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("creditchain policy "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { policyUsage(stderr) }
	return fs
}

// parsePolicyFlags parses args, mapping -h to exit 0 and errors to 2; ok
// is false when the command should return code.
func parsePolicyFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func runPolicyPropose(args []string, stdout, stderr io.Writer) int {
	fs := newPolicyFlags("propose", stderr)
	key := fs.String("key", "", "the proposing recorder's key file")
	network := fs.String("network", "", "network.json")
	file := fs.String("policy", "", "the policy JSON file")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for committed or rejected (0: do not wait)")
	if code, ok := parsePolicyFlags(fs, args); !ok {
		return code
	}
	if *key == "" || *network == "" || *file == "" {
		fmt.Fprintln(stderr, "creditchain policy propose: --key, --network and --policy are required")
		return 2
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain policy propose:", err)
		return 1
	}
	p, err := policy.Decode(raw)
	if err == nil {
		_, err = policy.Compile(p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "creditchain policy propose: %s: %v\n", *file, err)
		return 1
	}
	return submitPolicyTx(*key, *network, txn.TypePolicyPropose, (*txn.PolicyPropose)(p), *wait, stdout, stderr)
}

func runPolicyApprove(args []string, stdout, stderr io.Writer) int {
	fs := newPolicyFlags("approve", stderr)
	key := fs.String("key", "", "the approving recorder's key file")
	network := fs.String("network", "", "network.json")
	id := fs.String("id", "", "policy id")
	version := fs.Int("version", 0, "policy version")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for committed or rejected (0: do not wait)")
	if code, ok := parsePolicyFlags(fs, args); !ok {
		return code
	}
	if *key == "" || *network == "" || *id == "" || *version < 1 {
		fmt.Fprintln(stderr, "creditchain policy approve: --key, --network, --id and --version (at least 1) are required")
		return 2
	}
	return submitPolicyTx(*key, *network, txn.TypePolicyApprove, &txn.PolicyApprove{ID: *id, Version: *version}, *wait, stdout, stderr)
}

// submitPolicyTx signs payload as the key's institution, submits it to the
// network's intake and, unless wait is 0, waits for its outcome.
func submitPolicyTx(keyFile, networkFile, typ string, payload any, wait time.Duration, stdout, stderr io.Writer) int {
	name := "creditchain " + strings.Replace(typ, ".", " ", 1)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(networkFile)
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		return fail(fmt.Errorf("--network %s: %w", networkFile, err))
	}
	if nf.IntakeURL == "" || nf.ChainID == "" {
		return fail(fmt.Errorf("--network %s: intake_url and chain_id are required", networkFile))
	}
	kf, err := suite.LoadKeyFile(keyFile)
	if err != nil {
		return fail(err)
	}
	s, err := suite.ByName(kf.Alg)
	if err != nil {
		return fail(err)
	}
	if nf.CryptoSuite != "" && nf.CryptoSuite != kf.Alg {
		return fail(fmt.Errorf("the key is %s but the network's crypto suite is %s", kf.Alg, nf.CryptoSuite))
	}
	c := &devnet.Client{IntakeURL: nf.IntakeURL, Chain: nf.ChainID, Suite: s, Key: kf}
	env, _, err := c.Sign(typ, payload)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	final, err := c.SubmitAndWait(ctx, env, nil, wait, stdout)
	if err != nil {
		return fail(err)
	}
	if final.Status == "pending" {
		return 0
	}
	if final.Status == "rejected" {
		fmt.Fprintf(stdout, "%s rejected: %s\n", final.TxID, final.Reason)
		return 1
	}
	fmt.Fprintf(stdout, "%s committed at height %d\n", final.TxID, final.Height)
	return 0
}

func runPolicyList(args []string, stdout, stderr io.Writer) int {
	fs := newPolicyFlags("list", stderr)
	dbURL := fs.String("database", os.Getenv("DATABASE_URL"), "a replica database URL (default $DATABASE_URL)")
	asJSON := fs.Bool("json", false, "print the policy states as JSON")
	if code, ok := parsePolicyFlags(fs, args); !ok {
		return code
	}
	if *dbURL == "" {
		fmt.Fprintln(stderr, "creditchain policy list: --database is required")
		return 2
	}
	states, err := readPolicyStates(context.Background(), *dbURL)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain policy list:", err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(states, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSTATUS\tPROPOSED AT\tAPPROVALS")
	for _, ps := range states {
		for _, v := range ps.Versions {
			approvals := strings.Join(v.Approvals, ",")
			if v.Proposed == 0 && len(v.Approvals) == 0 {
				approvals = "(genesis)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", ps.ID, v.Policy.Version, versionStatus(ps, v.Policy.Version), v.Proposed, approvals)
		}
	}
	_ = tw.Flush()
	return 0
}

// versionStatus names a version's standing: the active one, a later one
// still collecting approvals, or an earlier one that can no longer be.
func versionStatus(ps ledger.PolicyState, v int) string {
	switch {
	case v == ps.Active:
		return "active"
	case v > ps.Active:
		return "proposed"
	}
	return "superseded"
}

func readPolicyStates(ctx context.Context, dbURL string) ([]ledger.PolicyState, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT doc FROM policies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	defer rows.Close()
	var out []ledger.PolicyState
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var ps ledger.PolicyState
		if err := json.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("decode policy: %w", err)
		}
		sort.Slice(ps.Versions, func(i, j int) bool { return ps.Versions[i].Policy.Version < ps.Versions[j].Policy.Version })
		out = append(out, ps)
	}
	return out, rows.Err()
}

// policyTestRecord is the part of a record that policies see, in the
// member names shared by a replica's record document, a GET
// /v1/records/{id} answer and a record.create payload; other members
// (subject, basis, policy, history...) are ignored.
type policyTestRecord struct {
	ID           string    `json:"record_id"`
	Category     string    `json:"category"`
	Authority    string    `json:"authority"`
	Start        time.Time `json:"start"`
	Term         string    `json:"term"`
	Measures     []string  `json:"measures"`
	Status       string    `json:"status"`
	Attestations []struct {
		Kind string    `json:"kind"`
		At   time.Time `json:"at"`
	} `json:"attestations"`
	Repair struct {
		Status    string    `json:"status"`
		DecidedAt time.Time `json:"decided_at"`
	} `json:"repair"`
}

// policyRecord converts the file's record to the policy's view, with the
// defaults of a freshly created record (active, no repair).
func (r *policyTestRecord) policyRecord() (*policy.Record, error) {
	if r.Start.IsZero() {
		return nil, errors.New("the record has no start")
	}
	out := &policy.Record{ID: r.ID, Category: r.Category, Authority: r.Authority, Start: r.Start.UTC(),
		Measures: r.Measures, Status: r.Status, Repair: policy.Repair{Status: r.Repair.Status, DecidedAt: r.Repair.DecidedAt.UTC()}}
	if out.Status == "" {
		out.Status = ledger.StatusActive
	}
	if out.Measures == nil {
		out.Measures = []string{}
	}
	if out.Repair.Status == "" {
		out.Repair.Status = policy.RepairNone
	}
	if r.Term != "" {
		d, err := policy.ParseDuration(r.Term)
		if err != nil {
			return nil, fmt.Errorf("term: %w", err)
		}
		out.Term = &d
	}
	for _, a := range r.Attestations {
		out.Attestations = append(out.Attestations, policy.Attestation{Kind: a.Kind, At: a.At.UTC()})
	}
	return out, nil
}

// loadTestPolicy reads a policy file, or names a built-in policy when no
// such file exists.
func loadTestPolicy(arg string) (*policy.Policy, error) {
	raw, err := os.ReadFile(arg)
	if errors.Is(err, os.ErrNotExist) {
		for _, p := range policy.Builtins() {
			if p.ID == arg {
				return p, nil
			}
		}
		return nil, fmt.Errorf("%s: no such file, nor a built-in policy id", arg)
	}
	if err != nil {
		return nil, err
	}
	p, err := policy.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return p, nil
}

// policyTestResult is the --json output of policy test.
type policyTestResult struct {
	Policy     string `json:"policy"`
	Version    int    `json:"version"`
	At         string `json:"at"`
	Eligible   bool   `json:"eligible"`
	Due        string `json:"due,omitempty"` // absent: only a new event can make the record eligible
	PurgeAfter string `json:"purge_after"`
}

func runPolicyTest(now time.Time, args []string, stdout, stderr io.Writer) int {
	fs := newPolicyFlags("test", stderr)
	polArg := fs.String("policy", "", "policy JSON file, or a built-in policy id")
	recFile := fs.String("record", "", "record JSON file")
	atArg := fs.String("at", "", "block time to evaluate at, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if code, ok := parsePolicyFlags(fs, args); !ok {
		return code
	}
	if *polArg == "" || *recFile == "" {
		fmt.Fprintln(stderr, "creditchain policy test: --policy and --record are required")
		return 2
	}
	at := now.UTC()
	if *atArg != "" {
		t, err := time.Parse(time.RFC3339Nano, *atArg)
		if err != nil {
			fmt.Fprintf(stderr, "creditchain policy test: --at: %v\n", err)
			return 2
		}
		at = t.UTC()
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "creditchain policy test:", err)
		return 1
	}
	p, err := loadTestPolicy(*polArg)
	if err != nil {
		return fail(err)
	}
	c, err := policy.Compile(p)
	if err != nil {
		return fail(err)
	}
	raw, err := os.ReadFile(*recFile)
	if err != nil {
		return fail(err)
	}
	var tr policyTestRecord
	if err := json.Unmarshal(raw, &tr); err != nil {
		return fail(fmt.Errorf("%s: %w", *recFile, err))
	}
	rec, err := tr.policyRecord()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *recFile, err))
	}
	d, err := c.Evaluate(rec, at)
	if err != nil {
		return fail(err)
	}
	res := policyTestResult{Policy: p.ID, Version: p.Version, At: txn.FormatTime(at), Eligible: d.Eligible, PurgeAfter: p.PurgeAfter}
	if !d.Due.IsZero() {
		res.Due = txn.FormatTime(d.Due)
	}
	if *asJSON {
		out, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	due := res.Due
	if due == "" {
		due = "never (only a new attestation or decision can make it eligible)"
	}
	fmt.Fprintf(stdout, "policy:      %s v%d\nat:          %s\neligible:    %t\ndue:         %s\npurge_after: %s\n",
		res.Policy, res.Version, res.At, res.Eligible, due, res.PurgeAfter)
	return 0
}
