package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/pkg/telemetry"
	consensus "github.com/creditchain/creditchain/services/consensus-ledger"
	exitcontract "github.com/creditchain/creditchain/services/exit-contract"
	"github.com/creditchain/creditchain/services/intake"
	"github.com/creditchain/creditchain/services/query"
	"github.com/creditchain/creditchain/services/replicator"
	"github.com/creditchain/creditchain/services/signer"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// `creditchain serve` is what `creditchain dev --multiprocess` re-executes
// for each process of the network: one service, or the NATS or etcd server,
// as its own OS process. It runs the same packages the service binaries and
// the single-process dev network run, so that killing, pausing or cutting
// off one process exercises the code that production runs. The supervisor
// passes secrets (NATS credentials) in the environment, never in arguments
// (which any local user can read in /proc).
func init() {
	register("serve", "run one process of a `dev --multiprocess` network (used by the supervisor): serve SERVICE [flags]", runServeCmd)
}

// serveFlags are the flags of every `serve` target; each uses some.
type serveFlags struct {
	genesis, listen, etcd, key, database, institution string
	intake, portal, issuerURL, store, users, dataDir  string
	consumerOnly                                      bool
	port, peerPort                                    int
	nats                                              string // from CREDITCHAIN_NATS only
}

func runServeCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: creditchain serve consensus-ledger|replicator|intake|exit-contract|signer|query|nats|etcd [flags]")
		return 2
	}
	name := args[0]
	fs := flag.NewFlagSet("creditchain serve "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.genesis, "genesis", "genesis.json", "genesis file of the chain")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "address of the API (HTTP services) or of /healthz, /readyz and /metrics")
	fs.StringVar(&f.etcd, "etcd", "", "etcd endpoints, comma-separated")
	fs.StringVar(&f.key, "key", "", "the institution's key file")
	fs.StringVar(&f.database, "database", "", "the PostgreSQL database of this process")
	fs.StringVar(&f.institution, "institution", "", "the institution (USCC) this process serves")
	fs.StringVar(&f.intake, "intake", "", "intake base URL")
	fs.StringVar(&f.portal, "portal", "", "portal base URL (the PDF's QR code)")
	fs.StringVar(&f.issuerURL, "issuer-url", "", "base URL of the issuer's query service")
	fs.BoolVar(&f.consumerOnly, "consumer-only", false, "the replicator's NATS user may only consume LEDGER")
	fs.StringVar(&f.store, "store", "", "NATS: JetStream directory")
	fs.StringVar(&f.users, "users", "", "NATS: JSON file of the server's users, read again on SIGHUP")
	fs.StringVar(&f.dataDir, "data", "", "etcd: data directory")
	fs.IntVar(&f.port, "port", 0, "NATS: client port; etcd: client port")
	fs.IntVar(&f.peerPort, "peer-port", 0, "etcd: peer port")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	f.nats = os.Getenv("CREDITCHAIN_NATS")
	run, ok := serveTargets[name]
	if !ok {
		fmt.Fprintf(stderr, "creditchain serve: unknown target %q\n", name)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := serveLogger(name, stderr)
	if err := run(ctx, &f, log); err != nil && ctx.Err() == nil {
		log.Error(name+" stopped", "err", err)
		return 1
	}
	return 0
}

// serveLogger logs JSON at warning level: a network of twenty processes
// logging every block would spend a core on it. CREDITCHAIN_LOG_LEVEL=info
// (or debug) says more.
func serveLogger(name string, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("CREDITCHAIN_LOG_LEVEL"))); err != nil {
		level = slog.LevelWarn
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(telemetry.LogHandler(h)).With("service", name)
}

var serveTargets = map[string]func(ctx context.Context, f *serveFlags, log *slog.Logger) error{
	"consensus-ledger": serveConsensus,
	"replicator":       serveReplicator,
	"intake":           serveIntake,
	"exit-contract":    serveExitContract,
	"signer":           serveSigner,
	"query":            serveQuery,
	"nats":             serveNATS,
	"etcd":             serveEtcd,
}

func (f *serveFlags) etcdEndpoints() []string {
	var out []string
	for _, e := range strings.Split(f.etcd, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// load reads the genesis and, when keyed, the key file.
func (f *serveFlags) load(keyed bool) (*block.Genesis, *suite.KeyFile, error) {
	g, err := svc.LoadGenesis(f.genesis)
	if err != nil {
		return nil, nil, err
	}
	if !keyed {
		return g, nil, nil
	}
	kf, err := suite.LoadKeyFile(f.key)
	if err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	return g, kf, nil
}

// traced sets up tracing (a no-op unless OTEL is configured) for service.
func traced(ctx context.Context, service string) func() {
	shutdown, err := telemetry.Setup(ctx, service)
	if err != nil {
		return func() {}
	}
	return func() { _ = shutdown(context.Background()) }
}

func serveConsensus(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	defer traced(ctx, "consensus-ledger")()
	g, kf, err := f.load(true)
	if err != nil {
		return err
	}
	node, err := consensus.Start(ctx, consensus.Config{Genesis: g, Key: kf, DatabaseURL: f.database, NATSURL: f.nats,
		EtcdEndpoints: f.etcdEndpoints(), Logger: log})
	if err != nil {
		return fmt.Errorf("start consensus-ledger: %w", err)
	}
	defer node.Close()
	return svc.Serve(ctx, f.listen, nil, nil)
}

func serveReplicator(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	defer traced(ctx, "replicator")()
	g, _, err := f.load(false)
	if err != nil {
		return err
	}
	r, err := replicator.Start(ctx, replicator.Config{Institution: f.institution, Genesis: g, DatabaseURL: f.database,
		NATSURL: f.nats, ConsumerOnly: f.consumerOnly, Logger: log})
	if err != nil {
		return fmt.Errorf("start replicator: %w", err)
	}
	defer r.Close()
	return svc.Serve(ctx, f.listen, nil, nil)
}

func serveIntake(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	defer traced(ctx, "intake")()
	g, _, err := f.load(false)
	if err != nil {
		return err
	}
	s, err := suite.ByName(g.CryptoSuite)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(f.nats, nats.Name("intake"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect nats: %w", err)
	}
	defer nc.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: f.etcdEndpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("connect etcd: %w", err)
	}
	defer cli.Close()
	members, err := registry.Watch(ctx, cli, g.ChainID)
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	srv, err := intake.Connect(ctx, g.ChainID, s, nc, members)
	if err != nil {
		return fmt.Errorf("start intake: %w", err)
	}
	srv.Logger = log
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	return svc.Serve(ctx, f.listen, mux, func() error {
		if !nc.IsConnected() {
			return errors.New("nats disconnected")
		}
		return nil
	})
}

func serveExitContract(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	_, kf, err := f.load(true)
	if err != nil {
		return err
	}
	s, err := exitcontract.Start(ctx, exitcontract.Config{Key: kf, DatabaseURL: f.database, IntakeURL: f.intake, Logger: log})
	if err != nil {
		return fmt.Errorf("start exit-contract: %w", err)
	}
	defer s.Close()
	exitcontract.RegisterMetrics(s)
	return svc.Serve(ctx, f.listen, nil, func() error {
		if !s.Status().Ready {
			return errors.New("schedule not loaded yet")
		}
		return nil
	})
}

func serveSigner(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	_, kf, err := f.load(true)
	if err != nil {
		return err
	}
	portal := f.portal
	s, err := signer.Start(ctx, signer.Config{DatabaseURL: f.database, IssuerKey: kf, IntakeURL: f.intake,
		PortalURL: func() string { return portal }, Poll: 200 * time.Millisecond, Logger: log})
	if err != nil {
		return fmt.Errorf("start signer: %w", err)
	}
	defer s.Close()
	return svc.Serve(ctx, f.listen, nil, func() error {
		if !s.Status().Ready {
			return errors.New("the replica has no genesis yet")
		}
		return nil
	})
}

func serveQuery(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	g, _, err := f.load(false)
	if err != nil {
		return err
	}
	cfg := query.Config{DatabaseURL: f.database, Genesis: g, Limits: query.DefaultLimits(), Logger: log}
	if u := f.issuerURL; u != "" {
		cfg.IssuerURL = func() string { return u }
	}
	srv, err := query.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open query: %w", err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	return svc.Serve(ctx, f.listen, mux, func() error { return srv.Ready(context.Background()) })
}

// serveNATS runs the embedded NATS server (the harness's, with JetStream on
// file storage) as a process of its own, on a fixed port and store so that
// a restart comes back where clients and streams expect it. SIGHUP reloads
// the users file, which is how the supervisor follows membership changes.
func serveNATS(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	if f.store == "" || f.port == 0 {
		return errors.New("--store and --port are required")
	}
	users, err := readNATSUsers(f.users)
	if err != nil {
		return err
	}
	ns, err := harness.StartNATS(harness.NATSOptions{StoreDir: f.store, Port: f.port, Users: users})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			users, err := readNATSUsers(f.users)
			if err == nil {
				err = ns.SetUsers(users)
			}
			if err != nil {
				log.Error("reload NATS users", "err", err)
			}
		}
	}
}

func readNATSUsers(path string) ([]*server.User, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("NATS users: %w", err)
	}
	var users []*server.User
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, fmt.Errorf("NATS users %s: %w", path, err)
	}
	return users, nil
}

// serveEtcd runs the embedded single-member etcd as a process of its own.
// It must come back on the ports it was given: the harness would move to
// free ones when they are taken, which would strand every client, so that
// is an error here and the supervisor tries again.
func serveEtcd(ctx context.Context, f *serveFlags, _ *slog.Logger) error {
	if f.dataDir == "" || f.port == 0 || f.peerPort == 0 {
		return errors.New("--data, --port and --peer-port are required")
	}
	et, err := harness.StartEtcd(harness.EtcdOptions{DataDir: f.dataDir, ClientPort: f.port, PeerPort: f.peerPort})
	if err != nil {
		return err
	}
	defer et.Stop()
	if et.ClientPort() != f.port || et.PeerPort() != f.peerPort {
		return fmt.Errorf("etcd came up on ports %d/%d, not %d/%d", et.ClientPort(), et.PeerPort(), f.port, f.peerPort)
	}
	<-ctx.Done()
	return nil
}
