package devnet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/suite"
	consensus "github.com/creditchain/creditchain/services/consensus-ledger"
	"github.com/creditchain/creditchain/services/intake"
	"github.com/creditchain/creditchain/services/replicator"
	"github.com/nats-io/nats.go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Options configures a network.
type Options struct {
	// Dir holds genesis.json, keys/, trust.json and network.json; when it
	// already holds a genesis the network resumes with it.
	Dir          string
	Institutions int
	Recorders    int
	Suite        string
	// Env supplies running servers (tests share one); nil starts servers
	// persistent in Dir.
	Env *harness.Env
	// OwnNATS starts a NATS server for this network alone on top of Env,
	// so that several networks can share one PostgreSQL and etcd.
	OwnNATS bool
	// NoNATSAuth leaves the embedded NATS server open to anyone. By default
	// a network turns authorization on (docs/membership.md): each service
	// and institution connects as its own user, NATSURL is the operator's.
	// Networks sharing one NATS server must set it (users are per server).
	NoNATSAuth bool
	// IntakePort and PortalPort are tried first; 0 means 8081 and 8080.
	// -1 means any free port.
	IntakePort, PortalPort int
	Clock                  func() time.Time
	BlockInterval          time.Duration
	IdleInterval           time.Duration
	Logger                 *slog.Logger
	Progress               func(string)
	// AdversaryCandidates is for adversary tests only: it becomes each
	// recorder's consensus.Config.AdversaryCandidates, told which recorder
	// is leading, so that a test can make any leader omit transactions.
	AdversaryCandidates func(institution string, candidates [][]byte) [][]byte
	// AdversaryDropReceipts is for tests only: it becomes each recorder's
	// consensus.Config.AdversaryDropReceipts, so that a test can make a
	// leader's receipts get lost, as a dying leader's would.
	AdversaryDropReceipts func(institution string, height uint64) bool
}

// withDefaults fills what o leaves unset: six institutions of which four
// record, Ed25519, warnings on stderr.
func (o Options) withDefaults() Options {
	if o.Institutions == 0 {
		o.Institutions = 6
	}
	if o.Recorders == 0 {
		o.Recorders = min(4, o.Institutions-1)
	}
	if o.Suite == "" {
		o.Suite = suite.Ed25519
	}
	if o.Logger == nil {
		// Warnings only, as the multi-process services log:
		// CREDITCHAIN_LOG_LEVEL=info (or debug) says more.
		level := slog.LevelWarn
		if err := level.UnmarshalText([]byte(os.Getenv("CREDITCHAIN_LOG_LEVEL"))); err != nil {
			level = slog.LevelWarn
		}
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return o
}

// Network is a running network.
type Network struct {
	opts    Options
	Env     *harness.Env
	ownEnv  bool
	ownNATS *harness.NATS
	// NATSURL is the operator's (admin) URL, with its credentials when
	// authorization is on; services connect as their own users.
	NATSURL      string
	Genesis      *block.Genesis
	Institutions []Institution
	DBPrefix     string
	IntakeURL    string
	Intake       *intake.Server
	// QueryURLByID is each institution's query service, once started.
	QueryURLByID map[string]string

	mu          sync.Mutex
	consensus   map[string]*service[*consensus.Node]
	replicators map[string]*service[*replicator.Replicator]
	servers     []*http.Server
	conns       []*nats.Conn
	etcd        *clientv3.Client
	mem         *memberState
}

// service is one running service with the cancel that stops it.
type service[T any] struct {
	v      T
	cancel context.CancelFunc
}

// Start creates (or resumes) the network in opts.Dir and starts every service.
func Start(ctx context.Context, opts Options) (*Network, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Join(opts.Dir, "keys"), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	n := &Network{opts: opts, Env: opts.Env,
		consensus: map[string]*service[*consensus.Node]{}, replicators: map[string]*service[*replicator.Replicator]{}}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	if err := n.loadOrCreate(); err != nil {
		return nil, err
	}
	if n.Env == nil {
		opts.Progress("starting PostgreSQL, NATS and etcd")
		env, err := harness.Start(ctx, harness.Options{Dir: filepath.Join(opts.Dir, "servers")}.FromEnv())
		if err != nil {
			return nil, err
		}
		n.Env, n.ownEnv = env, true
	}
	n.NATSURL = n.Env.NATS.URL()
	natsSrv := n.Env.NATS
	if opts.OwnNATS {
		ns, err := harness.StartNATS(harness.NATSOptions{})
		if err != nil {
			return nil, err
		}
		n.ownNATS, n.NATSURL, natsSrv = ns, ns.URL(), ns
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: n.Env.Etcd.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("connect etcd: %w", err)
	}
	n.etcd = cli
	if _, err := registry.Publish(ctx, cli, n.Genesis.ChainID, n.Genesis.Epoch()); err != nil {
		return nil, err
	}
	if err := n.startMembership(ctx, natsSrv); err != nil {
		return nil, err
	}
	for i, in := range n.Institutions {
		if !in.Member.Active() {
			continue
		}
		opts.Progress(fmt.Sprintf("starting services of %s (%d/%d)", in.Member.Name, i+1, len(n.Institutions)))
		if in.Member.HasRole(membership.RoleRecorder) {
			if err := n.StartConsensus(ctx, in.Member.ID); err != nil {
				return nil, err
			}
		}
		if err := n.StartReplicator(ctx, in.Member.ID); err != nil {
			return nil, err
		}
	}
	if err := n.startIntake(ctx); err != nil {
		return nil, err
	}
	if err := n.StartSigner(ctx); err != nil {
		return nil, err
	}
	// One exit-contract per recorder: any of them may submit a due exit.
	for _, in := range n.Institutions {
		if in.Member.Active() && in.Member.HasRole(membership.RoleRecorder) {
			if err := n.StartExitContract(ctx, in.Member.ID); err != nil {
				return nil, err
			}
		}
	}
	// Every institution serves its replica; the credit center's is the
	// portal (PortalPort, 8080 by default), the others take free ports.
	for i, in := range n.Institutions {
		port := -1
		if i == 0 {
			port = opts.PortalPort
		} else if !in.Member.Active() {
			continue
		}
		if err := n.StartQuery(ctx, in.Member.ID, port); err != nil {
			return nil, err
		}
	}
	if err := n.writeNetworkJSON(); err != nil {
		return nil, err
	}
	go n.followMembership(n.etcd.Ctx())
	ok = true
	return n, nil
}

// loadOrCreate reads the network's genesis and keys from Dir, or plans a
// new network and writes them.
func (n *Network) loadOrCreate() error {
	dir := n.opts.Dir
	gpath := filepath.Join(dir, "genesis.json")
	raw, err := os.ReadFile(gpath)
	if errors.Is(err, os.ErrNotExist) {
		insts, err := Plan(n.opts.Institutions, n.opts.Recorders, n.opts.Suite)
		if err != nil {
			return err
		}
		g, err := Genesis("creditchain-dev-"+randomSuffix(), n.opts.Suite, insts, time.Now().Add(-time.Minute))
		if err != nil {
			return err
		}
		for _, in := range insts {
			if err := in.Key.Save(filepath.Join(dir, "keys", in.Member.ID+".json")); err != nil {
				return err
			}
		}
		data, _ := json.MarshalIndent(g, "", "  ")
		if err := os.WriteFile(gpath, data, 0o644); err != nil {
			return err
		}
		n.Genesis, n.Institutions = g, insts
	} else if err != nil {
		return fmt.Errorf("read %s: %w", gpath, err)
	} else {
		g, err := block.DecodeGenesis(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", gpath, err)
		}
		n.Genesis = g
		for _, m := range g.Members {
			kf, err := suite.LoadKeyFile(filepath.Join(dir, "keys", m.ID+".json"))
			if err != nil {
				return err
			}
			n.Institutions = append(n.Institutions, Institution{Member: m, Key: kf})
		}
	}
	n.DBPrefix = "cc_" + strings.ReplaceAll(strings.TrimPrefix(n.Genesis.ChainID, "creditchain-dev-"), "-", "_")
	return nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func (n *Network) institution(id string) (Institution, int, error) {
	for i, in := range n.Institutions {
		if in.Member.ID == id {
			return in, i, nil
		}
	}
	return Institution{}, 0, fmt.Errorf("no institution %s", id)
}

// ReplicaURL is the database of an institution's replica.
func (n *Network) ReplicaURL(ctx context.Context, id string) (string, error) {
	_, i, err := n.institution(id)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s_replica_%d", n.DBPrefix, i+1)
	if err := n.Env.PG.CreateDatabase(ctx, name, ""); err != nil {
		return "", err
	}
	return n.Env.PG.URL(name), nil
}

// consensusURL is the database of recorder id's consensus state: its
// institution's replica database. The two hold the same chain, verified the
// same way, so one institution keeps it once; whichever of the two applies
// a block first writes it, the other finds it applied. On one machine this
// halves what PostgreSQL writes per block (docs/performance.md).
func (n *Network) consensusURL(ctx context.Context, id string) (string, error) {
	return n.ReplicaURL(ctx, id)
}

// StartConsensus starts the consensus-ledger of recorder id.
func (n *Network) StartConsensus(ctx context.Context, id string) error {
	in, _, err := n.institution(id)
	if err != nil {
		return err
	}
	url, err := n.consensusURL(ctx, id)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.Background())
	cfg := consensus.Config{
		Genesis: n.Genesis, Key: in.Key, DatabaseURL: url, NATSURL: n.natsURLFor(NATSConsensusUser(id)),
		EtcdEndpoints: n.Env.Etcd.Endpoints(), Clock: n.opts.Clock,
		BlockInterval: n.opts.BlockInterval, IdleInterval: n.opts.IdleInterval, Logger: n.opts.Logger,
	}
	if f := n.opts.AdversaryCandidates; f != nil {
		cfg.AdversaryCandidates = func(c [][]byte) [][]byte { return f(id, c) }
	}
	if f := n.opts.AdversaryDropReceipts; f != nil {
		cfg.AdversaryDropReceipts = func(h uint64) bool { return f(id, h) }
	}
	node, err := consensus.Start(sctx, cfg)
	if err != nil {
		cancel()
		return err
	}
	n.mu.Lock()
	n.consensus[id] = &service[*consensus.Node]{v: node, cancel: cancel}
	n.mu.Unlock()
	return nil
}

// StopConsensus stops recorder id's consensus-ledger abruptly: its context
// ends and its connections close, with no hand-over.
func (n *Network) StopConsensus(id string) {
	n.mu.Lock()
	s := n.consensus[id]
	delete(n.consensus, id)
	n.mu.Unlock()
	if s != nil {
		s.v.Close()
		s.cancel()
	}
}

// Consensus returns the running consensus node of id, or nil.
func (n *Network) Consensus(id string) *consensus.Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.consensus[id]; s != nil {
		return s.v
	}
	return nil
}

// StartReplicator starts institution id's replicator.
func (n *Network) StartReplicator(ctx context.Context, id string) error {
	url, err := n.ReplicaURL(ctx, id)
	if err != nil {
		return err
	}
	r, err := replicator.Start(ctx, replicator.Config{Institution: id, Genesis: n.Genesis, DatabaseURL: url,
		NATSURL: n.natsURLFor(NATSReplicaUser(id)), ConsumerOnly: n.mem != nil && n.mem.auth != nil, Logger: n.opts.Logger})
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.replicators[id] = &service[*replicator.Replicator]{v: r, cancel: func() {}}
	n.mu.Unlock()
	return nil
}

// StopReplicator stops institution id's replicator abruptly.
func (n *Network) StopReplicator(id string) {
	n.mu.Lock()
	s := n.replicators[id]
	delete(n.replicators, id)
	n.mu.Unlock()
	if s != nil {
		s.v.Close()
	}
}

// Replicator returns the running replicator of id, or nil.
func (n *Network) Replicator(id string) *replicator.Replicator {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.replicators[id]; s != nil {
		return s.v
	}
	return nil
}

func (n *Network) startIntake(ctx context.Context) error {
	nc, err := nats.Connect(n.natsURLFor(natsIntake), nats.Name("intake"), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	n.conns = append(n.conns, nc)
	members, err := registry.Watch(context.Background(), n.etcd, n.Genesis.ChainID)
	if err != nil {
		return err
	}
	su, _ := suite.ByName(n.Genesis.CryptoSuite)
	srv, err := intake.Connect(ctx, n.Genesis.ChainID, su, nc, members)
	if err != nil {
		return err
	}
	if n.opts.Clock != nil {
		srv.Clock = n.opts.Clock
	}
	n.Intake = srv
	ln, err := listen(n.opts.IntakePort, 8081)
	if err != nil {
		return err
	}
	n.IntakeURL = "http://" + ln.Addr().String()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	n.servers = append(n.servers, hs)
	go func() { _ = hs.Serve(ln) }()
	return nil
}

// listen binds 127.0.0.1 on want (or def when want is 0), falling back to
// a free port when that one is taken; -1 means any free port.
func listen(want, def int) (net.Listener, error) {
	if want == 0 {
		want = def
	}
	if want > 0 {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", want)); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// Close stops every service and, when the network started them, the servers.
func (n *Network) Close() {
	// The services that read replicas and submit go first, so that none of
	// them sees its database or intake vanish under it.
	n.StopSigner()
	for _, in := range n.Institutions {
		n.StopExitContract(in.Member.ID)
	}
	for _, hs := range n.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = hs.Shutdown(ctx)
		cancel()
	}
	n.mu.Lock()
	ids := make([]string, 0, len(n.consensus)+len(n.replicators))
	for id := range n.consensus {
		ids = append(ids, "c"+id)
	}
	for id := range n.replicators {
		ids = append(ids, "r"+id)
	}
	n.mu.Unlock()
	for _, id := range ids {
		if id[0] == 'c' {
			n.StopConsensus(id[1:])
		} else {
			n.StopReplicator(id[1:])
		}
	}
	for _, c := range n.conns {
		c.Close()
	}
	if n.etcd != nil {
		n.etcd.Close()
	}
	if n.ownNATS != nil {
		n.ownNATS.Shutdown()
	}
	if n.ownEnv && n.Env != nil {
		_ = n.Env.Close()
	}
}
