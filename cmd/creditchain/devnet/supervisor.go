package devnet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/nats-io/nats.go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Process names (DESIGN 9.7).
const (
	ProcIntake     = "intake"
	ProcConsensus  = "consensus-ledger"
	ProcReplicator = "replicator"
	ProcExit       = "exit-contract"
	ProcSigner     = "signer"
	ProcQuery      = "query"
	ProcNATS       = "nats-server"
	ProcEtcd       = "etcd"
	ProcPostgres   = "postgres"
	ProcDev        = "dev"
)

// serveTarget is the `creditchain serve` target of each process name.
var serveTarget = map[string]string{ProcNATS: "nats"}

// MultiOptions configures StartMultiprocess.
type MultiOptions struct {
	Options
	// Exe is the creditchain binary each process runs (`creditchain serve
	// ...`); empty means this very executable.
	Exe string
}

// Supervisor runs a dev network with every service of every institution,
// the NATS server and etcd as OS processes of their own, PostgreSQL as the
// harness's postmaster, and restarts whatever dies (DESIGN 9.1, 9.7). Its
// children die with it (parent-death signal), each in a process group of its
// own so that a terminal's ^C reaches only the supervisor, which then stops
// them in order. network.json lists the live processes and is rewritten
// whenever one is restarted.
type Supervisor struct {
	Net *Network
	// ControlURL serves the fault-injection API (POST /cut); also written
	// to Dir/supervisor.json.
	ControlURL string

	opts      MultiOptions
	exe       string
	servers   string // Dir/servers
	logDir    string
	usersFile string
	natsPort  int
	etcdPorts [2]int
	ports     *portBook
	dbURLs    map[string]string // "replica/<id>" and "consensus/<id>"
	epochsDB  *pgstore.Store    // the credit center's replica, for the trust bundle

	mu       sync.Mutex
	procs    map[string]*proc
	proxies  map[string]*cutProxy
	written  string // processes last written to network.json
	restarts map[string]int
	bundled  atomic.Uint64 // the epoch trust.json was last written with

	ctl    *http.Server
	cancel context.CancelFunc
	loops  sync.WaitGroup
}

// procSpec is one process the network should be running.
type procSpec struct {
	Name, Institution string
	Args              []string
	Env               []string // besides the supervisor's own environment
	// Ready, when set, is polled (GET, 200) before the network counts as up.
	Ready string
	// phase orders the first start: 0 the servers, then 1, 2, 3.
	phase int
}

var phaseNames = []string{"", "replicators and consensus-ledgers", "intake", "query, exit-contract and signer"}

func (s procSpec) key() string { return s.Name + "/" + s.Institution }

func (s procSpec) same(o procSpec) bool {
	return s.key() == o.key() && slices.Equal(s.Args, o.Args) && slices.Equal(s.Env, o.Env)
}

// proc is a child process and what the supervisor knows of its history.
type proc struct {
	spec    procSpec
	cmd     *exec.Cmd
	done    chan struct{} // closed once reaped
	started time.Time
	next    time.Time // earliest restart once it has exited
	backoff time.Duration
	noted   bool   // its exit has been logged and scheduled
	token   string // answered in its health checks (svc.ProcessTokenHeader)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// StartMultiprocess creates (or resumes) the network in opts.Dir and starts
// every process. It returns once intake and every query service are ready.
func StartMultiprocess(ctx context.Context, opts MultiOptions) (*Supervisor, error) {
	base := opts.Options.withDefaults()
	opts.Options = base
	exe := opts.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the creditchain executable: %w", err)
		}
	}
	s := &Supervisor{opts: opts, exe: exe, servers: filepath.Join(base.Dir, "servers"), logDir: filepath.Join(base.Dir, "logs"),
		dbURLs: map[string]string{}, procs: map[string]*proc{}, proxies: map[string]*cutProxy{}, restarts: map[string]int{}}
	for _, d := range []string{filepath.Join(base.Dir, "keys"), s.servers, s.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	s.usersFile = filepath.Join(s.servers, "nats-users.json")
	// The maps of in-process services stay empty: every service here is a
	// process of its own.
	n := &Network{opts: base}
	s.Net = n
	if err := n.loadOrCreate(); err != nil {
		return nil, err
	}
	var err error
	if s.ports, err = loadPortBook(filepath.Join(s.servers, "multiprocess-ports.json")); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	supervisors.Store(n, s)
	if err := s.startServers(ctx); err != nil {
		return nil, err
	}
	if err := s.listenControl(); err != nil {
		return nil, err
	}
	// In phases, as the single-process network starts them: the processes
	// that migrate a database (replicators, consensus) before those that
	// read it, and intake before those that submit to it.
	specs := s.desired(ctx)
	for phase := 1; phase <= 3; phase++ {
		var group []procSpec
		for _, sp := range specs {
			if sp.phase == phase {
				group = append(group, sp)
			}
		}
		base.Progress(fmt.Sprintf("starting %d processes: %s", len(group), phaseNames[phase]))
		for _, sp := range group {
			if err := s.start(sp); err != nil {
				return nil, err
			}
		}
		for _, sp := range group {
			if sp.Ready == "" {
				continue
			}
			if err := s.waitStarted(ctx, sp, s.spec); err != nil {
				return nil, err
			}
		}
	}
	if err := s.refreshNetworkJSON(true); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.loops.Add(3)
	go s.supervise(lctx)
	go s.watchPostgres(lctx)
	go s.keepNetworkJSON(lctx)
	ok = true
	return s, nil
}

// startServers brings up etcd, then NATS with the users the membership in
// etcd entitles, then PostgreSQL, and prepares the streams.
func (s *Supervisor) startServers(ctx context.Context) error {
	n := s.Net
	var err error
	if s.natsPort, err = s.ports.get("nats", 0); err != nil {
		return err
	}
	if s.etcdPorts[0], err = s.ports.get("etcd-client", 0); err != nil {
		return err
	}
	if s.etcdPorts[1], err = s.ports.get("etcd-peer", 0); err != nil {
		return err
	}
	endpoints := []string{"http://127.0.0.1:" + strconv.Itoa(s.etcdPorts[0])}
	s.opts.Progress("starting etcd (its own process)")
	if err := s.start(s.etcdSpec()); err != nil {
		return err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("connect etcd: %w", err)
	}
	n.etcd = cli
	if err := s.waitFor(ctx, "etcd", 60*time.Second, func(ctx context.Context) error {
		_, err := cli.Get(ctx, "health")
		return err
	}); err != nil {
		return err
	}
	if _, err := registry.Publish(ctx, cli, n.Genesis.ChainID, n.Genesis.Epoch()); err != nil {
		return fmt.Errorf("publish genesis membership: %w", err)
	}
	reg, err := registry.Watch(cli.Ctx(), cli, n.Genesis.ChainID)
	if err != nil {
		return fmt.Errorf("watch membership: %w", err)
	}
	auth := &natsAuth{host: "127.0.0.1:" + strconv.Itoa(s.natsPort), pass: map[string]string{}}
	n.mem = &memberState{reg: reg, auth: auth}
	cur := reg.Current()
	n.adopt(cur)
	if err := s.writeUsers(cur); err != nil {
		return err
	}
	n.mem.synced.Store(cur.Epoch)
	n.NATSURL = auth.url(natsAdmin)

	s.opts.Progress("starting NATS (its own process)")
	if err := s.start(s.natsSpec()); err != nil {
		return err
	}
	if err := s.waitFor(ctx, "NATS", 60*time.Second, func(context.Context) error {
		nc, err := nats.Connect(n.NATSURL, nats.Name("creditchain dev"), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
		}
		return err
	}); err != nil {
		return err
	}
	s.opts.Progress("starting PostgreSQL")
	env, err := harness.Start(ctx, harness.Options{Dir: s.servers, NATSURL: n.NATSURL, EtcdEndpoints: endpoints})
	if err != nil {
		return err
	}
	n.Env = env
	// Replicators only consume with their institution's user: the streams
	// must exist first.
	return ensureStreams(ctx, n.NATSURL)
}

func (s *Supervisor) waitFor(ctx context.Context, what string, within time.Duration, try func(context.Context) error) error {
	deadline := time.Now().Add(within)
	for {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := try(tctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil || errors.Is(err, errExited) {
			return fmt.Errorf("%s not ready within %s: %w (logs in %s)", what, within, err, s.logDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady polls sp's readiness URL until the process started for sp
// answers 200 with its own token: another program that took the port
// meanwhile does not count. A process that exits fails the wait at once.
func (s *Supervisor) waitReady(ctx context.Context, sp procSpec, within time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	s.mu.Lock()
	p := s.procs[sp.key()]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%s was not started", sp.key())
	}
	return s.waitFor(ctx, sp.key(), within, func(ctx context.Context) error {
		if p.exited() {
			return fmt.Errorf("%w (%s); its log ends:\n%s", errExited, p.cmd.ProcessState, s.logTail(sp, 10))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, sp.Ready, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", sp.Ready, resp.Status)
		}
		if resp.Header.Get(svc.ProcessTokenHeader) != p.token {
			return fmt.Errorf("%s answered by another program than the one started", sp.Ready)
		}
		return nil
	})
}

var errExited = errors.New("exited")

// waitStarted waits for sp's first start: a process that exits while
// starting (a race with another service of its database, say) is started
// again, twice at most, before the network's start fails with its log.
// respec gives the process's spec anew after its port was forgotten.
func (s *Supervisor) waitStarted(ctx context.Context, sp procSpec, respec func(context.Context, string) (procSpec, bool)) error {
	for attempt := 1; ; attempt++ {
		err := s.waitReady(ctx, sp, 90*time.Second)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return err
		}
		s.opts.Logger.Warn("exited while starting; starting it again", "process", sp.key(), "err", err)
		time.Sleep(250 * time.Millisecond)
		// Another program holds its port (one that picked the same free
		// port at the same time): it would fail there again.
		if port := listenPort(sp.Args); port > 0 && !portFree(port) {
			s.opts.Logger.Warn("its port is taken by another program; moving it", "process", sp.key(), "port", port)
			s.ports.forget(sp.key())
			if moved, ok := respec(ctx, sp.key()); ok {
				sp = moved
			}
		}
		if err := s.start(sp); err != nil {
			return err
		}
	}
}

// spec is the current spec of the process key; other processes whose
// specs changed with it (the issuer's query URL is in every query's
// arguments) are restarted by reconcile.
func (s *Supervisor) spec(ctx context.Context, key string) (procSpec, bool) {
	for _, sp := range s.desired(ctx) {
		if sp.key() == key {
			return sp, true
		}
	}
	return procSpec{}, false
}

// logName is the base name of sp's log in Dir/logs.
func (sp procSpec) logName() string {
	if sp.Institution != "" {
		return sp.Name + "-" + sp.Institution + ".log"
	}
	return sp.Name + ".log"
}

// logTail is the last n lines of sp's log.
func (s *Supervisor) logTail(sp procSpec, n int) string {
	raw, err := os.ReadFile(filepath.Join(s.logDir, sp.logName()))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// writeUsers writes the NATS users membership e entitles where the NATS
// process reads them (at start and on SIGHUP). The file holds passwords.
func (s *Supervisor) writeUsers(e *membership.Epoch) error {
	raw, err := json.Marshal(s.Net.mem.auth.users(e))
	if err != nil {
		return fmt.Errorf("encode NATS users: %w", err)
	}
	tmp := s.usersFile + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("write NATS users: %w", err)
	}
	return os.Rename(tmp, s.usersFile)
}

func (s *Supervisor) etcdSpec() procSpec {
	return procSpec{Name: ProcEtcd, Args: []string{"--data", filepath.Join(s.servers, "etcd"),
		"--port", strconv.Itoa(s.etcdPorts[0]), "--peer-port", strconv.Itoa(s.etcdPorts[1])}}
}

func (s *Supervisor) natsSpec() procSpec {
	return procSpec{Name: ProcNATS, Args: []string{"--store", filepath.Join(s.servers, "nats"),
		"--port", strconv.Itoa(s.natsPort), "--users", s.usersFile}}
}

// dbURL creates (once) and returns database kind ("replica" or
// "consensus") of institution id.
func (s *Supervisor) dbURL(ctx context.Context, kind, id string) (string, error) {
	s.mu.Lock()
	u, ok := s.dbURLs[kind+"/"+id]
	s.mu.Unlock()
	if ok {
		return u, nil
	}
	var err error
	if kind == "replica" {
		u, err = s.Net.ReplicaURL(ctx, id)
	} else {
		u, err = s.Net.consensusURL(ctx, id)
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.dbURLs[kind+"/"+id] = u
	s.mu.Unlock()
	return u, nil
}

// listenAddr is the remembered 127.0.0.1 address of process key.
func (s *Supervisor) listenAddr(key string, want int) string {
	p, err := s.ports.get(key, want)
	if err != nil {
		s.opts.Logger.Warn("pick a port", "process", key, "err", err)
	}
	return "127.0.0.1:" + strconv.Itoa(p)
}

// desired is every process the network should run now: the servers, and
// per DESIGN 9.7 one query and one replicator per active institution, one
// consensus-ledger and one exit-contract per active recorder, one intake
// and one signer.
func (s *Supervisor) desired(ctx context.Context) []procSpec {
	n := s.Net
	auth := n.mem.auth
	genesis := filepath.Join(n.opts.Dir, "genesis.json")
	specs := []procSpec{s.etcdSpec(), s.natsSpec()}
	etcd := strings.Join(n.Env.Etcd.Endpoints(), ",")
	natsEnv := func(user, host string) []string {
		u := url.URL{Scheme: "nats", User: url.UserPassword(user, auth.password(user)), Host: host}
		return []string{"CREDITCHAIN_NATS=" + u.String()}
	}
	natsHost := "127.0.0.1:" + strconv.Itoa(s.natsPort)
	intakeAddr := s.listenAddr("intake", defaultPort(n.opts.IntakePort, 8081))
	intakeURL := "http://" + intakeAddr
	n.mu.Lock()
	insts := slices.Clone(n.Institutions)
	n.mu.Unlock()
	queryURLs := map[string]string{}
	for i, in := range insts {
		if !in.Member.Active() {
			continue
		}
		want := -1
		if i == 0 {
			want = defaultPort(n.opts.PortalPort, 8080)
		}
		queryURLs[in.Member.ID] = "http://" + s.listenAddr(ProcQuery+"/"+in.Member.ID, want)
	}
	issuer := queryURLs[n.Genesis.Issuer.ID]
	for _, in := range insts {
		id := in.Member.ID
		if !in.Member.Active() {
			continue
		}
		replica, err := s.dbURL(ctx, "replica", id)
		if err != nil {
			s.opts.Logger.Warn("replica database", "institution", id, "err", err)
			continue
		}
		// The key id is part of the spec so that a rotated key restarts the
		// institution's signing processes with the new one.
		keyArgs := []string{"--key", n.keyPath(id), "--genesis", genesis}
		keyEnv := "CREDITCHAIN_KEY_ID=" + in.Key.KeyID
		raddr := s.listenAddr(ProcReplicator+"/"+id, -1)
		specs = append(specs, procSpec{Name: ProcReplicator, Institution: id, phase: 1, Ready: "http://" + raddr + "/readyz",
			Args: []string{"--genesis", genesis, "--institution", id, "--database", replica, "--consumer-only", "--listen", raddr},
			Env:  natsEnv(NATSReplicaUser(id), natsHost)})
		qargs := []string{"--genesis", genesis, "--database", replica, "--listen", strings.TrimPrefix(queryURLs[id], "http://")}
		if id != n.Genesis.Issuer.ID {
			qargs = append(qargs, "--issuer-url", issuer)
		}
		specs = append(specs, procSpec{Name: ProcQuery, Institution: id, Args: qargs, Ready: queryURLs[id] + "/readyz", phase: 3})
		if !in.Member.HasRole(membership.RoleRecorder) {
			continue
		}
		own, err := s.dbURL(ctx, "consensus", id)
		if err != nil {
			s.opts.Logger.Warn("consensus database", "institution", id, "err", err)
			continue
		}
		proxy, err := s.proxy(id, natsHost)
		if err != nil {
			s.opts.Logger.Warn("NATS proxy", "institution", id, "err", err)
			continue
		}
		caddr := s.listenAddr(ProcConsensus+"/"+id, -1)
		specs = append(specs, procSpec{Name: ProcConsensus, Institution: id, phase: 1, Ready: "http://" + caddr + "/readyz",
			Args: append(slices.Clone(keyArgs), "--database", own, "--etcd", etcd, "--listen", caddr),
			Env:  append(natsEnv(NATSConsensusUser(id), proxy.Addr()), keyEnv)})
		specs = append(specs, procSpec{Name: ProcExit, Institution: id, phase: 3,
			Args: append(slices.Clone(keyArgs), "--database", replica, "--intake", intakeURL, "--listen", s.listenAddr(ProcExit+"/"+id, -1)),
			Env:  []string{keyEnv}})
	}
	specs = append(specs, procSpec{Name: ProcIntake, phase: 2,
		Args: []string{"--genesis", genesis, "--etcd", etcd, "--listen", intakeAddr},
		Env:  natsEnv(natsIntake, natsHost), Ready: intakeURL + "/readyz"})
	if in, _, err := n.institution(n.Genesis.Issuer.ID); err == nil && in.Member.Active() {
		if replica, err := s.dbURL(ctx, "replica", in.Member.ID); err == nil {
			specs = append(specs, procSpec{Name: ProcSigner, phase: 3,
				Args: []string{"--genesis", genesis, "--key", n.keyPath(in.Member.ID), "--database", replica, "--intake", intakeURL,
					"--portal", issuer, "--listen", s.listenAddr(ProcSigner, -1)},
				Env: []string{"CREDITCHAIN_KEY_ID=" + in.Key.KeyID}})
		}
	}
	n.mu.Lock()
	n.IntakeURL = intakeURL
	n.QueryURLByID = queryURLs
	n.mu.Unlock()
	return specs
}

func defaultPort(want, def int) int {
	if want == 0 {
		return def
	}
	return want
}

// proxy returns recorder id's NATS proxy, starting it on first use.
func (s *Supervisor) proxy(id, natsHost string) (*cutProxy, error) {
	s.mu.Lock()
	p := s.proxies[id]
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	port, err := s.ports.get("nats-proxy/"+id, -1)
	if err != nil {
		return nil, err
	}
	if p, err = newCutProxy(port, natsHost); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.proxies[id] = p
	s.mu.Unlock()
	return p, nil
}

// start launches sp as a child process: `creditchain serve TARGET ARGS`,
// output appended to Dir/logs/NAME[-INSTITUTION].log.
func (s *Supervisor) start(sp procSpec) error {
	name := strings.TrimSuffix(sp.logName(), ".log")
	logf, err := os.OpenFile(filepath.Join(s.logDir, sp.logName()), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log of %s: %w", name, err)
	}
	target := sp.Name
	if t, ok := serveTarget[sp.Name]; ok {
		target = t
	}
	cmd := exec.Command(s.exe, append([]string{"serve", target}, sp.Args...)...)
	cmd.Dir = s.opts.Dir
	token := rand.Text()
	cmd.Env = append(append(childEnv(), sp.Env...), svc.ProcessTokenEnv+"="+token)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The kernel sends the parent-death signal when the thread that forked
	// the child exits: fork from a goroutine locked to its own thread for
	// the child's whole life (the runtime does not retire a locked thread
	// while its goroutine is blocked in Wait).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{spec: sp, cmd: cmd, done: make(chan struct{}), started: time.Now(), backoff: 250 * time.Millisecond, token: token}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	s.mu.Lock()
	if old := s.procs[sp.key()]; old != nil {
		p.backoff = old.backoff
		s.restarts[sp.key()]++
	}
	s.procs[sp.key()] = p
	s.mu.Unlock()
	return nil
}

// childEnv is our environment without what would steer a child elsewhere:
// the supervisor hands each its NATS credentials explicitly.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CREDITCHAIN_NATS=") && !strings.HasPrefix(kv, "CREDITCHAIN_KEY_ID=") &&
			!strings.HasPrefix(kv, svc.ProcessTokenEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// supervise restarts what died (with backoff), follows membership and keeps
// network.json true, until ctx ends.
func (s *Supervisor) supervise(ctx context.Context) {
	defer s.loops.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.followMembership(ctx)
		s.reconcile(ctx)
	}
}

// keepNetworkJSON rewrites network.json when a process was restarted, and
// once the credit center's replica holds a new membership epoch (for the
// trust bundle). It has a loop of its own because writing needs PostgreSQL,
// which may be down (and being restarted) while processes must go on being
// supervised.
func (s *Supervisor) keepNetworkJSON(ctx context.Context) {
	defer s.loops.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		force := false
		if want := s.Net.mem.synced.Load(); want > s.bundled.Load() {
			if e, err := s.epochs(ctx); err == nil && len(e) > 0 && e[len(e)-1].Epoch >= want {
				force = true
			}
		}
		err := s.refreshNetworkJSON(force)
		if err == nil && force {
			s.bundled.Store(s.Net.mem.synced.Load())
		}
		// Say so once per outage, not ten times a second.
		if err != nil && !failing && ctx.Err() == nil {
			s.opts.Logger.Warn("network.json not rewritten yet", "err", err)
		}
		failing = err != nil
	}
}

// reconcile stops processes the network no longer wants (or wants
// differently) and starts or restarts those it wants.
func (s *Supervisor) reconcile(ctx context.Context) {
	specs := s.desired(ctx)
	want := map[string]procSpec{}
	for _, sp := range specs {
		want[sp.key()] = sp
	}
	s.mu.Lock()
	var retire []*proc
	for k, p := range s.procs {
		if sp, ok := want[k]; !ok || !sp.same(p.spec) {
			retire = append(retire, p)
			delete(s.procs, k)
		}
	}
	now := time.Now()
	var due []procSpec
	for _, sp := range specs {
		p := s.procs[sp.key()]
		switch {
		case p == nil:
			due = append(due, sp)
		case !p.exited():
		case !p.noted:
			p.noted = true
			// A process that ran a while starts again at once; one that
			// keeps dying waits longer each time, up to 5 s.
			if now.Sub(p.started) > 10*time.Second {
				p.backoff = 250 * time.Millisecond
			} else {
				p.backoff = min(2*p.backoff, 5*time.Second)
			}
			p.next = now.Add(p.backoff)
			s.opts.Logger.Warn("process exited; restarting", "process", sp.Name, "institution", sp.Institution,
				"pid", p.cmd.Process.Pid, "state", p.cmd.ProcessState.String(), "after", p.backoff)
			// Another program may have taken its port while it was down
			// (or before it first bound it): it would never come back
			// there, so it gets another one (and network.json says so).
			if port := listenPort(sp.Args); port > 0 && now.Sub(p.started) < 10*time.Second && !portFree(port) {
				s.opts.Logger.Warn("its port is taken by another program; moving it", "process", sp.key(), "port", port)
				s.ports.forget(sp.key())
			}
		case now.After(p.next):
			due = append(due, sp)
		}
	}
	s.mu.Unlock()
	for _, p := range retire {
		stopProcs([]*proc{p}, 10*time.Second)
	}
	for _, sp := range due {
		if err := s.start(sp); err != nil {
			s.opts.Logger.Warn("restart", "process", sp.key(), "err", err)
		}
	}
}

// followMembership installs a new epoch's NATS users (the NATS process
// reloads them on SIGHUP) and adopts its members; reconcile then starts and
// stops their processes.
func (s *Supervisor) followMembership(ctx context.Context) {
	n := s.Net
	e := n.mem.reg.Current()
	if e == nil || e.Epoch <= n.mem.synced.Load() {
		return
	}
	if err := s.writeUsers(e); err != nil {
		s.opts.Logger.Warn("follow membership", "epoch", e.Epoch, "err", err)
		return
	}
	s.signal(ProcNATS, "", syscall.SIGHUP)
	n.adopt(e)
	// A key rotated on the ledger is taken from Dir/keys once the file there
	// holds a key of the member.
	for _, in := range slices.Clone(n.Institutions) {
		if _, ok := in.Member.Key(in.Key.KeyID); ok || !in.Member.Active() {
			continue
		}
		if kf, err := suite.LoadKeyFile(n.keyPath(in.Member.ID)); err == nil {
			if _, ok := in.Member.Key(kf.KeyID); ok {
				n.setKey(in.Member.ID, kf)
			}
		}
	}
	n.mem.synced.Store(e.Epoch)
	s.opts.Progress(fmt.Sprintf("membership epoch %d in force", e.Epoch))
}

// watchPostgres restarts the harness's postmaster on its data directory
// and port (crash recovery) whenever it has died.
func (s *Supervisor) watchPostgres(ctx context.Context) {
	defer s.loops.Done()
	pg := s.Net.Env.PG
	if pg.External() {
		return
	}
	backoff := 250 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		if pg.PID() != 0 {
			continue
		}
		s.opts.Logger.Warn("postgres exited; restarting")
		err := pg.Start(ctx)
		s.mu.Lock()
		if err == nil {
			s.restarts[ProcPostgres+"/"]++
		}
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("restart postgres", "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 250 * time.Millisecond
	}
}

// signal sends sig to the live process name/institution, if any.
func (s *Supervisor) signal(name, institution string, sig syscall.Signal) {
	s.mu.Lock()
	p := s.procs[name+"/"+institution]
	s.mu.Unlock()
	if p != nil && !p.exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// children are the live child processes, for network.json.
func (s *Supervisor) children() []Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Process
	for _, p := range s.procs {
		if !p.exited() {
			out = append(out, Process{Name: p.spec.Name, Institution: p.spec.Institution, PID: p.cmd.Process.Pid})
		}
	}
	return out
}

// refreshNetworkJSON rewrites network.json when the live processes changed
// (or always, with force).
func (s *Supervisor) refreshNetworkJSON(force bool) error {
	procs := s.children()
	if pid := s.Net.Env.PG.PID(); pid > 0 {
		procs = append(procs, Process{Name: ProcPostgres, PID: pid})
	}
	sort.Slice(procs, func(i, j int) bool {
		return procs[i].Name+procs[i].Institution < procs[j].Name+procs[j].Institution
	})
	raw, _ := json.Marshal(procs)
	s.mu.Lock()
	same := string(raw) == s.written
	s.mu.Unlock()
	if same && !force {
		return nil
	}
	if err := s.Net.writeNetworkJSON(); err != nil {
		return err
	}
	s.mu.Lock()
	s.written = string(raw)
	s.mu.Unlock()
	return nil
}

// epochs are the membership epochs the credit center's replica holds, for
// the trust bundle. An error (PostgreSQL down) must keep the old trust.json
// rather than write one with the genesis epoch alone.
func (s *Supervisor) epochs(ctx context.Context) ([]membership.Epoch, error) {
	s.mu.Lock()
	st := s.epochsDB
	s.mu.Unlock()
	if st == nil {
		u, err := s.dbURL(ctx, "replica", s.Net.Institutions[0].Member.ID)
		if err != nil {
			return nil, err
		}
		if st, err = pgstore.Open(ctx, u); err != nil {
			return nil, fmt.Errorf("open the credit center's replica: %w", err)
		}
		s.mu.Lock()
		s.epochsDB = st
		s.mu.Unlock()
	}
	return st.Epochs(ctx)
}

// supervisors maps each supervised *Network to its *Supervisor, so that
// network.json (netjson.go) lists the processes without Network holding a
// field for a mode it mostly does not run in.
var supervisors sync.Map

func supervisorOf(n *Network) *Supervisor {
	if v, ok := supervisors.Load(n); ok {
		return v.(*Supervisor)
	}
	return nil
}

// Restarts counts the restarts of each process (key "name/institution"),
// PostgreSQL's included.
func (s *Supervisor) Restarts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.restarts))
	for k, v := range s.restarts {
		out[k] = v
	}
	return out
}

// Cut drops recorder id's connections to NATS and refuses new ones for d.
func (s *Supervisor) Cut(id string, d time.Duration) error {
	s.mu.Lock()
	p := s.proxies[id]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no consensus-ledger of %s runs behind a proxy", id)
	}
	p.Cut(d)
	return nil
}

// listenControl serves the fault-injection API on 127.0.0.1 and writes its
// URL to Dir/supervisor.json:
//
//	POST /cut?institution=ID&for=5s   cut a recorder off NATS for a while
//	GET  /processes                   live processes and restart counts
func (s *Supervisor) listenControl() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cut", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if err != nil || d <= 0 || d > 10*time.Minute {
			http.Error(w, "for: a duration up to 10m", http.StatusBadRequest)
			return
		}
		if err := s.Cut(r.URL.Query().Get("institution"), d); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /processes", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"processes": s.children(), "restarts": s.Restarts()})
	})
	s.ctl = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.ctl.Serve(ln) }()
	s.ControlURL = "http://" + ln.Addr().String()
	raw, _ := json.MarshalIndent(map[string]any{"pid": os.Getpid(), "control_url": s.ControlURL}, "", "  ")
	if err := os.WriteFile(filepath.Join(s.opts.Dir, "supervisor.json"), raw, 0o644); err != nil {
		return fmt.Errorf("write supervisor.json: %w", err)
	}
	return nil
}

// stopOrder: the services that submit or read go first, then intake, the
// services that write the ledger, and last the servers they all use.
var stopOrder = [][]string{
	{ProcSigner, ProcExit, ProcQuery}, {ProcIntake}, {ProcConsensus}, {ProcReplicator}, {ProcNATS}, {ProcEtcd},
}

// Close stops every process in order, then PostgreSQL.
func (s *Supervisor) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.loops.Wait()
	s.mu.Lock()
	procs := s.procs
	s.procs = map[string]*proc{}
	s.mu.Unlock()
	for _, names := range stopOrder {
		var group []*proc
		for _, p := range procs {
			if slices.Contains(names, p.spec.Name) {
				group = append(group, p)
			}
		}
		stopProcs(group, 10*time.Second)
	}
	if s.ctl != nil {
		_ = s.ctl.Close()
	}
	for _, p := range s.proxies {
		p.Close()
	}
	if s.epochsDB != nil {
		s.epochsDB.Close()
	}
	n := s.Net
	if n.etcd != nil {
		n.etcd.Close()
	}
	if n.Env != nil {
		if err := n.Env.Close(); err != nil {
			s.opts.Logger.Warn("stop servers", "err", err)
		}
	}
	supervisors.Delete(n)
}

// stopProcs asks each process to stop (SIGCONT first, in case a test paused
// it), and kills those still running after grace.
func stopProcs(ps []*proc, grace time.Duration) {
	for _, p := range ps {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(grace)
	for _, p := range ps {
		select {
		case <-p.done:
		case <-deadline:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}
