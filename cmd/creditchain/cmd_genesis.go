package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
)

func init() {
	register("genesis", "write a consortium's genesis from its members' public keys, or print a genesis's hash: genesis create|hash", runGenesis)
}

func genesisUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  creditchain genesis create --members FILE --chain-id ID [--out genesis.json] [--force]
      [--quorum two-thirds|majority|all] [--time RFC3339]
      [--block-interval 100ms] [--idle-interval 5s] [--max-txs 2000] [--max-bytes 4194304]
  creditchain genesis hash FILE

create writes the genesis of a new chain and prints its hash. FILE lists the
members, in order, as a JSON array of
  {"id": USCC, "name", "kind", "roles": [...], "categories": [...], "key_file": PATH}
where key_file is the member's public key file (creditchain keygen --public-out;
a whole key file is accepted and only its public key is used), relative to
FILE's directory. The crypto suite is the keys' algorithm. The certificate
issuer is the first member with the issuer role. The built-in exit policies
are included.

hash checks a genesis file and prints its block hash: every member compares it
before starting its services (exit 1 if the file is not a valid genesis).
`)
}

func runGenesis(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		genesisUsage(stderr)
		return 2
	}
	switch args[0] {
	case "create":
		return runGenesisCreate(args[1:], stdout, stderr)
	case "hash":
		return runGenesisHash(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		genesisUsage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "creditchain genesis: unknown subcommand %q\n", args[0])
	genesisUsage(stderr)
	return 2
}

// genesisMember is one entry of the members file.
type genesisMember struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Roles      []string `json:"roles"`
	Categories []string `json:"categories"`
	KeyFile    string   `json:"key_file"`
}

func runGenesisCreate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain genesis create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { genesisUsage(stderr) }
	membersPath := fs.String("members", "", "members file (required)")
	chainID := fs.String("chain-id", "", "chain id (required)")
	out := fs.String("out", "genesis.json", "genesis file to write")
	force := fs.Bool("force", false, "overwrite an existing genesis file")
	quorum := fs.String("quorum", membership.QuorumTwoThirds, "quorum rule")
	at := fs.String("time", "", "genesis time, RFC 3339 (default now)")
	blockInterval := fs.String("block-interval", "", "longest wait for a block after its first transaction (default 100ms)")
	idleInterval := fs.String("idle-interval", "", "empty block after this long without transactions (default 5s)")
	maxTxs := fs.Int("max-txs", 0, "transactions per block at most (default 2000)")
	maxBytes := fs.Int("max-bytes", 0, "bytes of transactions per block at most (default 4 MiB)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || *membersPath == "" || *chainID == "" {
		genesisUsage(stderr)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "creditchain genesis create: %v\n", err)
		return 1
	}
	when := time.Now().UTC().Truncate(time.Second)
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "creditchain genesis create: --time: %v\n", err)
			return 2
		}
		when = t
	}
	members, alg, err := loadGenesisMembers(*membersPath)
	if err != nil {
		return fail(err)
	}
	if !slices.ContainsFunc(members, func(m membership.Member) bool { return m.HasRole(membership.RoleIssuer) }) {
		return fail(fmt.Errorf("no member has the %s role: certificates need an issuer", membership.RoleIssuer))
	}
	g, err := devnet.GenesisOf(*chainID, alg, members, when)
	if err != nil {
		return fail(err)
	}
	g.Quorum = *quorum
	if *blockInterval != "" {
		g.Limits.BlockInterval = *blockInterval
	}
	if *idleInterval != "" {
		g.Limits.IdleInterval = *idleInterval
	}
	if *maxTxs != 0 {
		g.Limits.MaxTxs = *maxTxs
	}
	if *maxBytes != 0 {
		g.Limits.MaxBytes = *maxBytes
	}
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return fail(err)
	}
	data = append(data, '\n')
	// Decoding what is about to be written checks it whole, flags included.
	hash, err := genesisHash(data)
	if err != nil {
		return fail(err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*out, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fail(fmt.Errorf("%s exists; use --force to replace it", *out))
	}
	if err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	recorders := len(g.Epoch().Recorders())
	fmt.Fprintf(stderr, "wrote %s: chain %s, suite %s, %d members (%d recorders, quorum %s), issuer %s\n",
		*out, g.ChainID, g.CryptoSuite, len(g.Members), recorders, g.Quorum, g.Issuer.ID)
	fmt.Fprintln(stdout, hash)
	return 0
}

// loadGenesisMembers reads the members file and their public key files; all
// keys must be of one algorithm, the chain's suite.
func loadGenesisMembers(path string) ([]membership.Member, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("members file: %w", err)
	}
	var entries []genesisMember
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, "", fmt.Errorf("members file %s: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, "", fmt.Errorf("members file %s lists no members", path)
	}
	var members []membership.Member
	algs := map[string]bool{}
	for i, e := range entries {
		where := fmt.Sprintf("members file %s, member %d (%s)", path, i+1, e.ID)
		if e.KeyFile == "" {
			return nil, "", fmt.Errorf("%s: no key_file", where)
		}
		kp := e.KeyFile
		if !filepath.IsAbs(kp) {
			kp = filepath.Join(filepath.Dir(path), kp)
		}
		pub, err := suite.LoadPublicKeyFile(kp)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", where, err)
		}
		if pub.Institution != e.ID {
			return nil, "", fmt.Errorf("%s: key file %s belongs to %s", where, kp, pub.Institution)
		}
		algs[pub.Alg] = true
		members = append(members, membership.Member{ID: e.ID, Name: e.Name, Kind: e.Kind, Roles: e.Roles, Categories: e.Categories,
			Keys: []membership.Key{{KeyID: pub.KeyID, Alg: pub.Alg, Public: pub.Public}}})
	}
	if len(algs) != 1 {
		names := make([]string, 0, len(algs))
		for a := range algs {
			names = append(names, a)
		}
		return nil, "", fmt.Errorf("members' keys mix algorithms (%s): a chain has one crypto suite", strings.Join(names, ", "))
	}
	return members, members[0].Keys[0].Alg, nil
}

// genesisHash decodes and checks a genesis and returns its block hash.
func genesisHash(data []byte) (string, error) {
	g, err := block.DecodeGenesis(data)
	if err != nil {
		return "", err
	}
	s, err := g.Suite()
	if err != nil {
		return "", err
	}
	b, err := g.Block(s)
	if err != nil {
		return "", err
	}
	return b.Hash, nil
}

func runGenesisHash(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		genesisUsage(stderr)
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "creditchain genesis hash: %v\n", err)
		return 1
	}
	hash, err := genesisHash(data)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain genesis hash: %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}
