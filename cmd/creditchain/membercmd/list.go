package membercmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func runList(args []string, stdout, stderr io.Writer) int {
	const name = "creditchain member list"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database", "", "read the newest epoch from this replica")
	network := fs.String("network", "", "network.json: read etcd_endpoints and chain_id from it")
	endpoints := fs.String("etcd", "", "comma-separated etcd endpoints (with --chain)")
	chain := fs.String("chain", "", "the chain id (with --etcd)")
	asJSON := fs.Bool("json", false, "print the epoch as JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	src := source{database: *dbURL, chain: *chain, etcd: splitList(*endpoints)}
	if *network != "" {
		nf, err := readNetwork(*network)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		}
		src.fromNetwork(nf)
	}
	if src.database == "" && (len(src.etcd) == 0 || src.chain == "") {
		fmt.Fprintf(stderr, "%s: --database, --network or --etcd with --chain is required\n", name)
		return 2
	}
	e, err := src.load(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(e, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	printEpoch(stdout, e)
	return 0
}

func printEpoch(w io.Writer, e *membership.Epoch) {
	fmt.Fprintf(w, "epoch %d, in force from height %d\n", e.Epoch, e.FromHeight)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tKIND\tROLES\tCATEGORIES\tKEYS\tNAME")
	for _, m := range e.Members {
		status := m.Status
		if status == "" {
			status = membership.StatusActive
		}
		keys := make([]string, len(m.Keys))
		for i, k := range m.Keys {
			keys[i] = k.KeyID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, status, dash(m.Kind), dash(strings.Join(m.Roles, ",")),
			dash(strings.Join(m.Categories, ",")), dash(strings.Join(keys, ",")), m.Name)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// source is where the membership is read: a replica, or etcd.
type source struct {
	database string
	etcd     []string
	chain    string
}

func (s *source) fromNetwork(nf *devnet.NetworkFile) {
	if len(s.etcd) == 0 {
		s.etcd = nf.EtcdEndpoints
	}
	if s.chain == "" {
		s.chain = nf.ChainID
	}
}

// load reads the newest epoch: a replica's when a database is named (what
// the ledger says), else etcd's (what the services follow).
func (s *source) load(ctx context.Context) (*membership.Epoch, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if s.database != "" {
		st, err := pgstore.Open(ctx, s.database)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return st.Membership(ctx)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.etcd, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("connect etcd: %w", err)
	}
	defer cli.Close()
	e, err := registry.Load(ctx, cli, s.chain)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("etcd holds no membership for chain %q", s.chain)
	}
	return e, nil
}

// currentMember is member id as the replica at dbURL, or else etcd, holds it.
func currentMember(ctx context.Context, nf *devnet.NetworkFile, dbURL, id string) (*membership.Member, error) {
	src := source{database: dbURL}
	src.fromNetwork(nf)
	if src.database == "" && len(src.etcd) == 0 {
		return nil, errors.New("network.json names no etcd endpoints: give --database")
	}
	e, err := src.load(ctx)
	if err != nil {
		return nil, err
	}
	m, ok := e.Member(id)
	if !ok || m.Status == membership.StatusRemoved {
		return nil, fmt.Errorf("%s is not a member in epoch %d", id, e.Epoch)
	}
	return m, nil
}
