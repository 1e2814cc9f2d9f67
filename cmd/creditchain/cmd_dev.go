package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/harness"
)

func init() {
	register("dev", "run a local network until interrupted: dev [--data DIR] [--multiprocess]", runDevCmd)
}

func runDevCmd(args []string, stdout, stderr io.Writer) int {
	// The first SIGINT/SIGTERM asks for a clean stop; once it has arrived,
	// stop() restores the default so that a second one ends us at once (the
	// servers die with us: PostgreSQL gets its parent-death signal).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	return runDev(ctx, args, stdout, stderr)
}

// runDev runs the dev network until ctx is cancelled.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "keep the network in `DIR` and resume it from there next time (default: a temporary directory removed on exit)")
	institutions := fs.Int("institutions", 6, "number of institutions (the first is the credit center)")
	recorders := fs.Int("recorders", 4, "number of recorders among them")
	demo := fs.Bool("demo", false, "load realistic sample data (once per data directory)")
	multiprocess := fs.Bool("multiprocess", false, "run every service of every institution, NATS and etcd as OS processes of their own, supervised and restarted when they die")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "creditchain dev: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "creditchain-dev-")
		if err != nil {
			fmt.Fprintf(stderr, "creditchain dev: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
		fmt.Fprintf(stdout, "creditchain dev: data in %s (temporary, removed on exit)\n", dir)
	} else {
		fmt.Fprintf(stdout, "creditchain dev: data in %s\n", dir)
	}

	if *multiprocess {
		return runDevMultiprocess(ctx, devnet.MultiOptions{Options: devnet.Options{Dir: dir, Institutions: *institutions,
			Recorders: *recorders, Progress: func(s string) { fmt.Fprintln(stdout, "  "+s) }}}, *demo, stdout, stderr)
	}
	env, err := startDevServers(ctx, dir, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain dev: %v\n", err)
		return 1
	}
	net, err := devnet.Start(ctx, devnet.Options{Dir: dir, Env: env, Institutions: *institutions, Recorders: *recorders,
		Progress: func(s string) { fmt.Fprintln(stdout, "  "+s) }})
	if err != nil {
		fmt.Fprintf(stderr, "creditchain dev: %v\n", err)
		_ = env.Close()
		return 1
	}
	if *demo {
		fmt.Fprintln(stdout, "  loading demo data")
		if err := net.LoadDemo(ctx); err != nil {
			fmt.Fprintf(stderr, "creditchain dev: demo data: %v\n", err)
		}
	}
	printDevSummary(stdout, net, dir)
	<-ctx.Done()
	fmt.Fprintln(stdout, "creditchain dev: stopping")
	net.Close()
	if err := env.Close(); err != nil {
		fmt.Fprintf(stderr, "creditchain dev: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "creditchain dev: stopped")
	return 0
}

// startDevServers starts the servers the network runs on, persistent in
// dir/servers (so that the network's own files can sit beside them in dir),
// printing each as it comes up. CREDITCHAIN_DATABASE_URL / DATABASE_URL,
// CREDITCHAIN_NATS_URL and CREDITCHAIN_ETCD_ENDPOINTS select external ones.
func startDevServers(ctx context.Context, dir string, out io.Writer) (*harness.Env, error) {
	env, err := harness.Start(ctx, harness.Options{
		Dir: filepath.Join(dir, "servers"),
		Progress: func(server, address string) {
			fmt.Fprintf(out, "  %-9s %s\n", server, address)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start servers: %w", err)
	}
	return env, nil
}

// printDevSummary tells a newcomer where everything is and how to use it.
func printDevSummary(w io.Writer, n *devnet.Network, dir string) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "creditchain dev: chain %s is running\n", n.Genesis.ChainID)
	if u := n.PortalURL(); u != "" {
		fmt.Fprintf(w, "  portal         %s\n", u)
	}
	fmt.Fprintf(w, "  intake         %s\n", n.IntakeURL)
	fmt.Fprintf(w, "  network.json   %s\n", filepath.Join(dir, "network.json"))
	for _, in := range n.Institutions {
		fmt.Fprintf(w, "  %-18s %s (%v)\n", in.Member.ID, in.Member.Name, in.Member.Roles)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Submit a record as the court:")
	fmt.Fprintf(w, "  go run ./cmd/creditchain tx submit --network %s --key %s --type record.create --example\n",
		filepath.Join(dir, "network.json"), filepath.Join(dir, "keys", n.Institutions[1].Member.ID+".json"))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "creditchain dev: running; press Ctrl-C to stop")
}
