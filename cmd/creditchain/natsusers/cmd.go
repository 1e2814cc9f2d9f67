package natsusers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/svc"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Summary is the one-line help of `creditchain nats-users`.
const Summary = "keep a NATS server's users file in step with the membership in etcd"

// Run runs `creditchain nats-users` with args after "nats-users": 0 done
// (or stopped by a signal), 1 failed, 2 usage error. Every flag falls back
// to CREDITCHAIN_<FLAG>, as the services' flags do.
func Run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := svc.Context()
	defer stop()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain nats-users", flag.ContinueOnError)
	fs.SetOutput(stderr)
	genesis := fs.String("genesis", env("genesis", "genesis.json"), "genesis file: the chain id, and the membership while etcd holds none")
	etcd := fs.String("etcd", env("etcd", "http://127.0.0.1:2379"), "etcd endpoints, comma-separated")
	passwords := fs.String("passwords", env("passwords", ""), "directory with one file per NATS user holding its password (a mounted Secret)")
	out := fs.String("out", env("out", ""), "the users file the NATS configuration includes")
	pidFile := fs.String("pid-file", env("pid_file", ""), "the NATS server's pid file: SIGHUP it when the file changes")
	monitor := fs.String("monitor", env("monitor", ""), "the NATS server's monitoring URL, to confirm each reload (e.g. http://127.0.0.1:8222)")
	interval := fs.Duration("interval", DefaultInterval, "how often to read the membership from etcd")
	listen := fs.String("listen", env("listen", "127.0.0.1:9090"), "address for /healthz, /readyz and /metrics")
	once := fs.Bool("once", false, "write the file once and exit (before the server starts)")
	wait := fs.Duration("wait", 2*time.Minute, "with --once: how long to keep trying while etcd is not reachable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: creditchain nats-users --genesis FILE --etcd ENDPOINTS --passwords DIR --out FILE")
		fmt.Fprintln(stderr, "                              (--once | --pid-file FILE [--monitor URL] [--interval D] [--listen ADDR])")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Writes the NATS users that the membership in etcd entitles (docs/membership.md):")
		fmt.Fprintln(stderr, "admin, intake, consensus-<USCC> per active recorder, replica-<USCC> per active")
		fmt.Fprintln(stderr, "member, each with the password in DIR/<user>. Without --once it runs beside the")
		fmt.Fprintln(stderr, "server, rereads etcd every --interval and reloads the server (SIGHUP) when the")
		fmt.Fprintln(stderr, "file changes, so a suspended or removed member is cut off within the interval.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// A malformed CREDITCHAIN_INTERVAL is a usage error like a malformed
	// --interval, not a silent fallback to the default.
	if v := env("interval", ""); v != "" && !flagSet(fs, "interval") {
		if err := fs.Set("interval", v); err != nil {
			fmt.Fprintf(stderr, "creditchain nats-users: CREDITCHAIN_INTERVAL=%q: %v\n", v, err)
			return 2
		}
	}
	if fs.NArg() > 0 || *passwords == "" || *out == "" || (!*once && *pidFile == "") {
		fs.Usage()
		return 2
	}
	// Logs go where the caller says (a container's stderr), as JSON like the
	// services' logs.
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("service", "nats-users")
	g, err := svc.LoadGenesis(*genesis)
	if err != nil {
		fmt.Fprintln(stderr, "creditchain nats-users:", err)
		return 1
	}
	var endpoints []string
	for _, e := range strings.Split(*etcd, ",") {
		if e = strings.TrimSpace(e); e != "" {
			endpoints = append(endpoints, e)
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Fprintln(stderr, "creditchain nats-users: connect etcd:", err)
		return 1
	}
	defer cli.Close()
	cfg := Config{Etcd: cli, Chain: g.ChainID, Genesis: g.Epoch(), Passwords: *passwords, Out: *out,
		PidFile: *pidFile, Monitor: *monitor, Interval: *interval, Logger: log}

	if *once {
		cfg.PidFile = ""
		if err := syncOnce(ctx, cfg, *wait); err != nil {
			fmt.Fprintln(stderr, "creditchain nats-users:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", *out)
		return 0
	}
	// The server is signalled by pid; should a stale pid file ever name
	// this process, the signal must not end it.
	signal.Ignore(syscall.SIGHUP)
	r := New(cfg)
	go r.Run(ctx)
	if err := svc.Serve(ctx, *listen, nil, r.Ready); err != nil {
		fmt.Fprintln(stderr, "creditchain nats-users:", err)
		return 1
	}
	return 0
}

// syncOnce writes the file, retrying while etcd is out of reach (it starts
// beside NATS on a new cluster), for at most wait.
func syncOnce(ctx context.Context, cfg Config, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := Sync(tctx, cfg)
		tcancel()
		if err == nil {
			cfg.Logger.Info("NATS users file written", "epoch", res.Epoch, "file", cfg.Out, "changed", res.Changed, "without_password", res.Missing)
			return nil
		}
		cfg.Logger.Warn("write NATS users; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("NATS users not written within %s: %w", wait, err)
		case <-time.After(2 * time.Second):
		}
	}
}

func env(name, def string) string {
	if v := os.Getenv("CREDITCHAIN_" + strings.ToUpper(name)); v != "" {
		return v
	}
	return def
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
