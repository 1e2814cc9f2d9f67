// Package ledgercmd is `creditchain ledger`: audit a replica end to end
// (verify) and restore a damaged one from the LEDGER stream (repair). It is
// a package of its own, registered by the CLI's cmd_ledger.go, so that the
// end-to-end tests can run the command in-process.
package ledgercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/creditchain/creditchain/pkg/audit"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Summary is the one-line help of `creditchain ledger`.
const Summary = "audit a replica (ledger verify --database URL) or repair it from the stream (ledger repair)"

// Run runs `creditchain ledger` with args after "ledger": 0 sound (or
// repaired), 1 damaged or failed, 2 usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "repair":
		return runRepair(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "creditchain ledger: unknown subcommand %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain ledger verify --database URL [--genesis FILE] [--every N] [--quiet]")
	fmt.Fprintln(w, "       creditchain ledger repair --database URL --nats URL [--from-height H] [--genesis FILE]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "verify replays the replica's chain from the genesis without trusting its")
	fmt.Fprintln(w, "projections: header hashes, links and cosignature quorums, transaction")
	fmt.Fprintln(w, "signatures and rules, Merkle roots and stored nodes, the head row, and then")
	fmt.Fprintln(w, "every projection against the replayed state. Exit 0 sound, 1 damaged (the")
	fmt.Fprintln(w, "first bad height and row are printed), 2 usage error.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "repair cuts the chain back to the last sound block (or --from-height if")
	fmt.Fprintln(w, "earlier), rebuilds the projections from the replay in one transaction, and")
	fmt.Fprintln(w, "re-applies the following blocks from the LEDGER stream, verifying each one.")
	fmt.Fprintln(w, "Stop the replica's replicator first. Exit 0 only if the replica verifies")
	fmt.Fprintln(w, "sound afterwards.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  --database URL    the replica's PostgreSQL")
	fmt.Fprintln(w, "  --genesis FILE    the trusted genesis.json; the replica's stored genesis")
	fmt.Fprintln(w, "                    must hash alike (default: trust the stored genesis)")
	fmt.Fprintln(w, "  --nats URL        the network's NATS, holding the LEDGER stream (repair)")
	fmt.Fprintln(w, "  --from-height H   repair from height H at the latest")
	fmt.Fprintln(w, "  --every N         report progress every N blocks (default 1000)")
	fmt.Fprintln(w, "  --quiet           no progress lines")
}

// common are the flags both subcommands take.
type common struct {
	database, genesis string
	every             uint64
	quiet             bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.database, "database", "", "replica database URL")
	fs.StringVar(&c.genesis, "genesis", "", "trusted genesis.json")
	fs.Uint64Var(&c.every, "every", 1000, "progress every N blocks")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines")
}

// parse parses args; code is -1 when the command should go on.
func parse(name string, fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "creditchain ledger %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	return -1
}

// options turns the common flags into audit options.
func (c *common) options(stderr io.Writer) (audit.Options, error) {
	o := audit.Options{Every: c.every}
	if c.genesis != "" {
		raw, err := os.ReadFile(c.genesis)
		if err != nil {
			return o, err
		}
		if o.Genesis, err = block.DecodeGenesis(raw); err != nil {
			return o, fmt.Errorf("%s: %w", c.genesis, err)
		}
	}
	if !c.quiet {
		o.Progress = func(p audit.Progress) {
			fmt.Fprintf(stderr, "verified block %d of %d (%d transactions, %s)\n", p.Height, p.Head, p.Txs, p.Elapsed.Round(time.Millisecond))
		}
	}
	return o, nil
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain ledger verify", flag.ContinueOnError)
	var c common
	c.register(fs)
	if code := parse("verify", fs, args, stderr); code >= 0 {
		return code
	}
	if c.database == "" {
		fmt.Fprintln(stderr, "creditchain ledger verify: --database is required")
		usage(stderr)
		return 2
	}
	opts, err := c.options(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain ledger verify: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	store, err := pgstore.Open(ctx, c.database)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain ledger verify: %v\n", err)
		return 1
	}
	defer store.Close()
	rep, err := audit.Run(ctx, store, opts)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain ledger verify: %v\n", err)
		return 1
	}
	if !rep.Sound() {
		fmt.Fprintf(stdout, "damaged: %v\n", rep.Problem)
		fmt.Fprintf(stdout, "sound up to height %d of %d stored; repair with: creditchain ledger repair --database URL --nats URL\n", rep.Height, rep.Stored)
		return 1
	}
	printSound(stdout, rep)
	return 0
}

func printSound(w io.Writer, rep *audit.Report) {
	fmt.Fprintf(w, "sound: height %d, %d blocks, %d transactions, verified in %s (genesis %s)\n",
		rep.Height, rep.Blocks, rep.Txs, rep.Elapsed.Round(time.Millisecond), rep.GenesisHash)
}

func runRepair(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain ledger repair", flag.ContinueOnError)
	var (
		c       common
		natsURL string
		from    uint64
	)
	c.register(fs)
	fs.StringVar(&natsURL, "nats", "", "NATS URL of the network")
	fs.Uint64Var(&from, "from-height", 0, "repair from this height at the latest")
	if code := parse("repair", fs, args, stderr); code >= 0 {
		return code
	}
	if c.database == "" || natsURL == "" {
		fmt.Fprintln(stderr, "creditchain ledger repair: --database and --nats are required")
		usage(stderr)
		return 2
	}
	opts, err := c.options(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain ledger repair: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "creditchain ledger repair: %v\n", err)
		return 1
	}
	store, err := pgstore.Open(ctx, c.database)
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	nc, err := nats.Connect(natsURL, nats.Name("creditchain ledger repair"))
	if err != nil {
		return fail(fmt.Errorf("connect %s: %w", natsURL, err))
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	ro := audit.RepairOptions{JetStream: js, FromHeight: from, Audit: opts, Every: c.every}
	if !c.quiet {
		ro.Log = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	rep, err := audit.Repair(ctx, store, ro)
	if err != nil {
		return fail(err)
	}
	if !rep.After.Sound() {
		fmt.Fprintf(stdout, "still damaged after repair: %v\n", rep.After.Problem)
		return 1
	}
	if rep.Changed {
		fmt.Fprintf(stdout, "repaired from height %d: projections rebuilt, %d blocks re-applied from the stream\n", rep.From, rep.Applied)
	}
	printSound(stdout, rep.After)
	return 0
}
