package natsusers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/natsauth"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/services/replicator"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Institutions of testdata/genesis.json.
const (
	court  = "11350200D00000021P" // recorder
	market = "11350200D0000003XF" // recorder
	bank   = "11350200D000000645" // submitter
)

// childEnv makes the test binary a NATS server (natsServerMain) instead of
// running tests.
const childEnv = "NATSUSERS_TEST_NATS_CONFIG"

func TestMain(m *testing.M) {
	if conf := os.Getenv(childEnv); conf != "" {
		os.Exit(natsServerMain(conf))
	}
	os.Exit(m.Run())
}

// natsServerMain does what `nats-server --config FILE` does, with the same
// server package: the test runs NATS as a process of its own, because
// revocation is a SIGHUP that the reloader sends to another process found
// by its pid file, as the sidecar does in the NATS pod.
func natsServerMain(conf string) int {
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats.conf:", err)
		return 2
	}
	s, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats server:", err)
		return 2
	}
	s.ConfigureLogger()
	if err := server.Run(s); err != nil {
		fmt.Fprintln(os.Stderr, "nats server:", err)
		return 2
	}
	s.WaitForShutdown()
	return 0
}

// network is a NATS server configured as the Helm chart configures it (a
// users file included from its configuration, a pid file, monitoring),
// etcd, the genesis and a passwords directory as the chart mounts them.
type network struct {
	dir                string
	genesis            *block.Genesis
	genesisFile        string
	passwords          string
	usersFile, pidFile string
	natsHost, monitor  string
	listen             string
	etcd               *harness.Etcd
	cli                *clientv3.Client
	pw                 map[string]string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func setup(t *testing.T) *network {
	t.Helper()
	var endpoints []string
	if v := os.Getenv(harness.EnvEtcdEndpoints); v != "" {
		endpoints = strings.Split(v, ",")
	}
	et, err := harness.StartEtcd(harness.EtcdOptions{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(et.Stop)
	cli, err := et.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })

	dir := t.TempDir()
	n := &network{dir: dir, etcd: et, cli: cli, pw: map[string]string{},
		passwords: filepath.Join(dir, "passwords"), usersFile: filepath.Join(dir, "auth", "users.conf"),
		pidFile: filepath.Join(dir, "run", "nats.pid"), genesisFile: filepath.Join(dir, "genesis.json"),
		natsHost: "127.0.0.1:" + strconv.Itoa(freePort(t)), monitor: "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
		listen: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	for _, d := range []string{"config", "auth", "run", "passwords", "jetstream"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile("testdata/genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := block.DecodeGenesis(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Its own chain, so that a shared etcd holds no membership for it yet.
	g.ChainID = fmt.Sprintf("natsusers-%d", time.Now().UnixNano())
	if raw, err = g.MarshalJSON(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.genesisFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	n.genesis = g
	// A password for every user the chart's Secret holds.
	users := []string{natsauth.Admin, natsauth.Intake}
	for _, m := range g.Members {
		users = append(users, natsauth.ReplicaUser(m.ID))
		if m.HasRole(membership.RoleRecorder) {
			users = append(users, natsauth.ConsensusUser(m.ID))
		}
	}
	for _, u := range users {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		n.pw[u] = hex.EncodeToString(b)
		if err := os.WriteFile(filepath.Join(n.passwords, u), []byte(n.pw[u]), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// args are the reloader's flags as the chart passes them.
func (n *network) args(extra ...string) []string {
	return append([]string{"--genesis", n.genesisFile, "--etcd", strings.Join(n.etcd.Endpoints(), ","),
		"--passwords", n.passwords, "--out", n.usersFile}, extra...)
}

// startNATS runs the server as a child process on a configuration that
// includes the users file the way the chart's nats.conf does.
func (n *network) startNATS(t *testing.T) {
	t.Helper()
	mon, _ := url.Parse(n.monitor)
	conf := fmt.Sprintf(`server_name: natsusers-test
listen: %s
http: %s
pid_file: %q
jetstream {
  store_dir: %q
}
include "../auth/users.conf"
`, n.natsHost, mon.Host, n.pidFile, filepath.Join(n.dir, "jetstream"))
	path := filepath.Join(n.dir, "config", "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(n.dir, "nats.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			raw, _ := os.ReadFile(logPath)
			t.Logf("NATS server log:\n%s", raw)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, err := n.connect(natsauth.Admin)
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("NATS server not up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *network) url(user string) string {
	return (&url.URL{Scheme: "nats", User: url.UserPassword(user, n.pw[user]), Host: n.natsHost}).String()
}

func (n *network) connect(user string, opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(n.url(user), append([]nats.Option{nats.Timeout(2 * time.Second)}, opts...)...)
}

// client is a connection that reports when the server cuts it off and
// the asynchronous errors it gets (permission violations).
type client struct {
	nc   *nats.Conn
	cut  chan struct{}
	once sync.Once
	errs chan error
}

func (n *network) client(t *testing.T, user string, opts ...nats.Option) *client {
	t.Helper()
	c := &client{cut: make(chan struct{}), errs: make(chan error, 16)}
	cut := func() { c.once.Do(func() { close(c.cut) }) }
	// Reconnecting forever, as the services do: a revoked user must be
	// kept out, not merely disconnected once.
	opts = append(opts, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { cut() }),
		nats.ClosedHandler(func(*nats.Conn) { cut() }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	nc, err := n.connect(user, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	c.nc = nc
	return c
}

// replica connects as institution id's replicator does and opens its
// durable LEDGER consumer the way the replicator does.
func (n *network) replica(t *testing.T, ctx context.Context, id string) (*client, jetstream.JetStream, jetstream.Consumer) {
	t.Helper()
	c := n.client(t, natsauth.ReplicaUser(id), nats.CustomInboxPrefix(replicator.InboxPrefix(id)))
	js, err := jetstream.New(c.nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, streams.LedgerStream, jetstream.ConsumerConfig{
		Durable: replicator.ConsumerName(id), AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1,
	})
	if err != nil {
		t.Fatalf("%s: its own LEDGER consumer: %v", id, err)
	}
	return c, js, cons
}

// next reads and acknowledges the next LEDGER message.
func next(ctx context.Context, cons jetstream.Consumer) (string, error) {
	m, err := cons.Next(jetstream.FetchMaxWait(3 * time.Second))
	if err != nil {
		return "", err
	}
	if err := m.DoubleAck(ctx); err != nil {
		return "", fmt.Errorf("ack: %w", err)
	}
	return string(m.Data()), nil
}

// denied asserts that a request the user may not make fails: NATS never
// answers a request it refuses, so it times out.
func denied(t *testing.T, ctx context.Context, what string, try func(context.Context) error) {
	t.Helper()
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := try(dctx); err == nil {
		t.Errorf("a replica user could %s", what)
	}
}

func (n *network) publish(t *testing.T, ctx context.Context, e *membership.Epoch) {
	t.Helper()
	ok, err := registry.Publish(ctx, n.cli, n.genesis.ChainID, e)
	if err != nil || !ok {
		t.Fatalf("publish epoch %d: %v (published %v)", e.Epoch, err, ok)
	}
}

func withStatus(e *membership.Epoch, epoch uint64, id, status string) *membership.Epoch {
	out := &membership.Epoch{Epoch: epoch, Members: slices.Clone(e.Members)}
	for i := range out.Members {
		if out.Members[i].ID == id {
			out.Members[i].Status = status
		}
	}
	return out
}

// revocationBound is what the test allows between etcd showing a member
// suspended or removed and its connections being closed: one interval
// and a reload, with room for a busy machine; DESIGN 6 allows a minute.
const revocationBound = 10 * time.Second

// TestRevokedMemberLosesTheLedger runs the reloader as the chart does (an
// init pass before the server starts, then the sidecar) against a NATS
// server process and etcd: each member's replica user consumes LEDGER
// through its own consumer and may do nothing else; once etcd shows the
// member removed (or suspended) its connections are closed within the
// bound, it cannot read the ledger or reconnect, and the other members are
// untouched.
func TestRevokedMemberLosesTheLedger(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := setup(t)

	// The init container: etcd has no membership of this chain yet, so the
	// genesis decides.
	var out bytes.Buffer
	if code := run(ctx, n.args("--once"), &out, &out); code != 0 {
		t.Fatalf("nats-users --once: exit %d\n%s", code, out.String())
	}
	n.startNATS(t)
	sidecarLog := n.startSidecar(t, ctx)

	// Intake publishes the genesis membership; the operator makes the
	// streams and the consensus appends blocks.
	n.publish(t, ctx, n.genesis.Epoch())
	admin := n.client(t, natsauth.Admin)
	ajs, _ := jetstream.New(admin.nc)
	if err := streams.Ensure(ctx, ajs, streams.Options{Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := ajs.Publish(ctx, streams.LedgerSubject, []byte("block "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	sidecars, err := ajs.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sidecars.Put(ctx, "commitment", []byte(`{"name":"x"}`)); err != nil {
		t.Fatal(err)
	}

	bankC, bankJS, bankCons := n.replica(t, ctx, bank)
	courtC, _, courtCons := n.replica(t, ctx, court)
	for id, cons := range map[string]jetstream.Consumer{bank: bankCons, court: courtCons} {
		if got, err := next(ctx, cons); err != nil || got != "block 1" {
			t.Fatalf("%s reads %q, %v; want block 1", id, got, err)
		}
	}
	kv, err := bankJS.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		t.Fatalf("replica opens SIDECARS: %v", err)
	}
	if e, err := kv.Get(ctx, "commitment"); err != nil || string(e.Value()) != `{"name":"x"}` {
		t.Fatalf("replica reads a sidecar: %v", err)
	}

	// And nothing else.
	denied(t, ctx, "open another institution's consumer", func(ctx context.Context) error {
		_, err := bankJS.CreateOrUpdateConsumer(ctx, streams.LedgerStream, jetstream.ConsumerConfig{Durable: replicator.ConsumerName(court), AckPolicy: jetstream.AckExplicitPolicy})
		return err
	})
	denied(t, ctx, "publish to TXS", func(ctx context.Context) error {
		_, err := bankJS.Publish(ctx, streams.TxsSubject, []byte("{}"))
		return err
	})
	denied(t, ctx, "read TXS", func(ctx context.Context) error { _, err := bankJS.Stream(ctx, streams.TxsStream); return err })
	denied(t, ctx, "delete LEDGER", func(ctx context.Context) error { return bankJS.DeleteStream(ctx, streams.LedgerStream) })
	if _, err := bankC.nc.Subscribe("_INBOX.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	for refused := false; !refused; {
		select {
		case err := <-bankC.errs:
			refused = strings.Contains(err.Error(), "Permissions Violation for Subscription")
		case <-time.After(5 * time.Second):
			t.Fatal("a replica user subscribed to every client's replies")
		}
	}
	if _, err := ajs.Stream(ctx, streams.LedgerStream); err != nil {
		t.Fatalf("LEDGER after the replica's attempts: %v", err)
	}

	// The regulator removes the bank: the epoch lands in etcd.
	start := time.Now()
	n.publish(t, ctx, withStatus(n.genesis.Epoch(), 1, bank, membership.StatusRemoved))
	select {
	case <-bankC.cut:
	case <-time.After(revocationBound):
		t.Fatalf("the removed member's connection is still open %v after etcd showed it removed", revocationBound)
	}
	t.Logf("removed member cut off %v after etcd showed it (interval %v)", time.Since(start).Round(time.Millisecond), DefaultInterval)
	if _, err := next(ctx, bankCons); err == nil {
		t.Fatal("the removed member still reads the ledger")
	}
	if nc, err := n.connect(natsauth.ReplicaUser(bank)); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		if nc != nil {
			nc.Close()
		}
		t.Fatalf("the removed member reconnects: %v", err)
	}
	if got, err := next(ctx, courtCons); err != nil || got != "block 2" {
		t.Fatalf("court after the bank's removal reads %q, %v; want block 2", got, err)
	}

	// A suspended recorder loses both its replica and consensus users.
	consensus := n.client(t, natsauth.ConsensusUser(court))
	start = time.Now()
	n.publish(t, ctx, withStatus(withStatus(n.genesis.Epoch(), 2, bank, membership.StatusRemoved), 2, court, membership.StatusSuspended))
	for name, c := range map[string]*client{"replica": courtC, "consensus": consensus} {
		select {
		case <-c.cut:
		case <-time.After(revocationBound - time.Since(start)):
			t.Fatalf("the suspended recorder's %s connection is still open after %v", name, time.Since(start))
		}
	}
	t.Logf("suspended recorder cut off %v after etcd showed it", time.Since(start).Round(time.Millisecond))
	if _, err := next(ctx, courtCons); err == nil {
		t.Fatal("the suspended member still reads the ledger")
	}
	_, _, marketCons := n.replica(t, ctx, market)
	if got, err := next(ctx, marketCons); err != nil || got != "block 1" {
		t.Fatalf("market reads %q, %v", got, err)
	}
	if !strings.Contains(sidecarLog.String(), "NATS server reloaded its users") {
		t.Errorf("the sidecar did not log its reloads:\n%s", sidecarLog.String())
	}
}

// startSidecar runs the reloader as the chart's sidecar does, until the
// test ends, and returns once it is ready; its log is returned.
func (n *network) startSidecar(t *testing.T, ctx context.Context) *syncBuffer {
	t.Helper()
	log := &syncBuffer{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- run(sctx, n.args("--pid-file", n.pidFile, "--monitor", n.monitor, "--listen", n.listen), log, log)
	}()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("sidecar exit %d", code)
		}
		if t.Failed() {
			t.Logf("sidecar:\n%s", log.String())
		}
	})
	waitReady(t, ctx, "http://"+n.listen+"/readyz")
	return log
}

// TestSidecarAppliesAFileLeftUnapplied: a reloader that stopped after
// writing the file but before the server applied it (a restarted sidecar)
// finds out from the server's config_load_time and reloads it; the server
// never rereads the file by itself.
func TestSidecarAppliesAFileLeftUnapplied(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := setup(t)
	n.publish(t, ctx, n.genesis.Epoch())
	var out bytes.Buffer
	if code := run(ctx, n.args("--once"), &out, &out); code != 0 {
		t.Fatalf("nats-users --once: exit %d\n%s", code, out.String())
	}
	n.startNATS(t)
	bankC := n.client(t, natsauth.ReplicaUser(bank))

	n.publish(t, ctx, withStatus(n.genesis.Epoch(), 1, bank, membership.StatusRemoved))
	res, err := Sync(ctx, Config{Etcd: n.cli, Chain: n.genesis.ChainID, Passwords: n.passwords, Out: n.usersFile})
	if err != nil || !res.Changed || res.Epoch != 1 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	select {
	case <-bankC.cut:
		t.Fatal("the server applied a users file nobody asked it to read")
	case <-time.After(2 * DefaultInterval):
	}
	start := time.Now()
	log := n.startSidecar(t, ctx)
	select {
	case <-bankC.cut:
	case <-time.After(revocationBound):
		t.Fatalf("the restarted sidecar left the file unapplied:\n%s", log.String())
	}
	t.Logf("applied %v after the sidecar started", time.Since(start).Round(time.Millisecond))
}

func waitReady(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
