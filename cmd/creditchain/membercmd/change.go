package membercmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// actions maps the subcommands to member.update actions.
var actions = map[string]string{"add": txn.ActionAdmit, "update": txn.ActionUpdate,
	"suspend": txn.ActionSuspend, "remove": txn.ActionRemove}

// changeFlags are the flags of add and update.
type changeFlags struct {
	name, kind, roles, categories, publicKeyFile, database string
	keepKeys                                               bool
}

func runChange(sub string, args []string, stdout, stderr io.Writer) int {
	name := "creditchain member " + sub
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	network := fs.String("network", "", "network.json (intake URL, chain id, etcd endpoints)")
	keyPath := fs.String("key", "", "the regulator's key file")
	id := fs.String("id", "", "the member's USCC")
	wait := fs.Duration("wait", defaultWait, "how long to wait for the change to commit (0: do not wait)")
	var cf changeFlags
	if sub == "add" || sub == "update" {
		fs.StringVar(&cf.name, "name", "", "the institution's name")
		fs.StringVar(&cf.kind, "kind", "", "the kind of institution")
		fs.StringVar(&cf.roles, "roles", "", "comma-separated roles")
		fs.StringVar(&cf.categories, "categories", "", "comma-separated categories a recorder may record")
		fs.StringVar(&cf.publicKeyFile, "public-key-file", "", "the member's key file (its public key is used)")
	}
	if sub == "update" {
		fs.StringVar(&cf.database, "database", "", "read the member from this replica instead of etcd")
		fs.BoolVar(&cf.keepKeys, "keep-keys", false, "add --public-key-file beside the member's keys instead of replacing them")
	}
	if code, ok := parse(fs, args); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, req := range []string{"network", "key", "id"} {
		if !set[req] {
			fmt.Fprintf(stderr, "%s: --%s is required\n", name, req)
			return 2
		}
	}
	if sub == "add" {
		for _, req := range []string{"name", "kind", "roles", "public-key-file"} {
			if !set[req] {
				fmt.Fprintf(stderr, "%s: --%s is required\n", name, req)
				return 2
			}
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	nf, err := readNetwork(*network)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	spec := txn.MemberSpec{ID: *id}
	switch sub {
	case "add":
		spec.Name, spec.Kind, spec.Roles, spec.Categories = cf.name, cf.kind, splitList(cf.roles), splitList(cf.categories)
	case "update":
		cur, err := currentMember(ctx, nf, cf.database, *id)
		if err != nil {
			return fail(err)
		}
		spec = txn.MemberSpec{ID: cur.ID, Name: cur.Name, Kind: cur.Kind, Roles: cur.Roles,
			Categories: cur.Categories, Keys: cur.Keys}
		if set["name"] {
			spec.Name = cf.name
		}
		if set["kind"] {
			spec.Kind = cf.kind
		}
		if set["roles"] {
			spec.Roles = splitList(cf.roles)
		}
		if set["categories"] {
			spec.Categories = splitList(cf.categories)
		}
	}
	if cf.publicKeyFile != "" {
		k, err := readPublicKey(cf.publicKeyFile, *id)
		if err != nil {
			return fail(err)
		}
		if cf.keepKeys {
			spec.Keys = append(slices.Clone(spec.Keys), k)
		} else {
			spec.Keys = []membership.Key{k}
		}
	}
	return submit(ctx, nf, *keyPath, txn.MemberUpdate{Action: actions[sub], Member: spec}, *wait, stdout, fail)
}

func readNetwork(path string) (*devnet.NetworkFile, error) {
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		return nil, fmt.Errorf("--network %s: %w", path, err)
	}
	if nf.IntakeURL == "" || nf.ChainID == "" {
		return nil, fmt.Errorf("--network %s: intake_url and chain_id are required", path)
	}
	return &nf, nil
}

// readPublicKey reads the public key of member id from path (a public key
// file, or a key file read for its public part only: the regulator never
// needs the private key of the institution it admits), checking it and its
// key id.
func readPublicKey(path, id string) (membership.Key, error) {
	var pk suite.PublicKeyFile
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &pk)
	}
	if err != nil {
		return membership.Key{}, fmt.Errorf("--public-key-file %s: %w", path, err)
	}
	if pk.Institution != "" && pk.Institution != id {
		return membership.Key{}, fmt.Errorf("--public-key-file %s is a key of %s, not of %s", path, pk.Institution, id)
	}
	if err := suite.CheckPublicKey(pk.Alg, pk.Public); err != nil {
		return membership.Key{}, fmt.Errorf("--public-key-file %s: %w", path, err)
	}
	want := suite.KeyID(pk.Alg, pk.Public)
	if pk.KeyID != "" && pk.KeyID != want {
		return membership.Key{}, fmt.Errorf("--public-key-file %s: key_id %s, the public key gives %s", path, pk.KeyID, want)
	}
	return membership.Key{KeyID: want, Alg: pk.Alg, Public: pk.Public}, nil
}

// submit signs p with the regulator's key, submits it and waits for its
// outcome.
func submit(ctx context.Context, nf *devnet.NetworkFile, keyPath string, p txn.MemberUpdate, wait time.Duration, stdout io.Writer, fail func(error) int) int {
	kf, err := suite.LoadKeyFile(keyPath)
	if err != nil {
		return fail(err)
	}
	if nf.CryptoSuite != "" && nf.CryptoSuite != kf.Alg {
		return fail(fmt.Errorf("the key is %s but the network's crypto suite is %s", kf.Alg, nf.CryptoSuite))
	}
	if p.Action != txn.ActionSuspend && p.Action != txn.ActionRemove && len(p.Member.Keys) == 0 {
		return fail(errors.New("the member needs a key: --public-key-file"))
	}
	s, err := suite.ByName(kf.Alg)
	if err != nil {
		return fail(err)
	}
	c := &devnet.Client{IntakeURL: nf.IntakeURL, Chain: nf.ChainID, Suite: s, Key: kf}
	env, _, err := c.Sign(txn.TypeMemberUpdate, p)
	if err != nil {
		return fail(err)
	}
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
	fmt.Fprintf(stdout, "%s committed at height %d; %s %s is in force from height %d\n",
		final.TxID, final.Height, p.Member.ID, past[p.Action], final.Height+1)
	return 0
}

// past names what an action did, for the summary line.
var past = map[string]string{txn.ActionAdmit: "admitted", txn.ActionUpdate: "updated",
	txn.ActionSuspend: "suspended", txn.ActionRemove: "removed"}
