package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// DataDir is the cluster directory. Empty means a temporary cluster that
	// Stop removes. An existing cluster there (PG_VERSION present) is resumed.
	DataDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// URL, when set, names an external server (any database on it): nothing
	// is started and Stop leaves the server alone.
	URL string
	// StartTimeout bounds initdb plus startup; 0 means 60 s.
	StartTimeout time.Duration
}

// Postgres is a PostgreSQL server: either a cluster this process runs (as the
// `postgres` OS user when we are root) or an external one.
type Postgres struct {
	external *url.URL

	binDir   string
	user     pgUser
	dataDir  string
	tempRoot string // removed by Stop when the cluster is temporary
	timeout  time.Duration

	port atomic.Int64 // read by URL while start holds mu

	mu        sync.Mutex
	proc      *child
	templates map[string]*template
}

// postmasterSettings favour speed over durability against an operating
// system crash (fsync off). A killed server loses nothing that was
// committed: synchronous_commit stays on, so fault tests stay meaningful.
var postmasterSettings = []string{
	"listen_addresses=127.0.0.1",
	"fsync=off",
	"full_page_writes=off",
	"shared_buffers=16MB",
	"max_connections=300",
	"log_min_messages=warning",
	"log_statement=none",
}

// StartPostgres starts (or, with opts.URL, connects to) a PostgreSQL server
// and returns once it accepts connections.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	p := &Postgres{timeout: opts.StartTimeout, templates: map[string]*template{}}
	p.port.Store(int64(opts.Port))
	if p.timeout == 0 {
		p.timeout = 60 * time.Second
	}
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil {
			return nil, fmt.Errorf("harness: external PostgreSQL URL: %w", err)
		}
		p.external = u
		if err := p.ping(ctx); err != nil {
			return nil, fmt.Errorf("harness: external PostgreSQL %s: %w", u.Redacted(), err)
		}
		return p, nil
	}
	var err error
	if p.binDir, err = pgBinDir(); err != nil {
		return nil, err
	}
	if p.user, err = lookupPGUser(); err != nil {
		return nil, err
	}
	if err := p.prepareDataDir(opts.DataDir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if _, err := os.Stat(filepath.Join(p.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := p.initdb(ctx); err != nil {
			p.removeTemp()
			return nil, err
		}
	}
	if err := p.start(ctx, opts.Port == 0); err != nil {
		p.removeTemp()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) prepareDataDir(dir string) error {
	if dir == "" {
		tmp, err := makeTemp("pg")
		if err != nil {
			return err
		}
		p.tempRoot, dir = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("harness: PostgreSQL data directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("harness: PostgreSQL data directory: %w", err)
	}
	p.dataDir = abs
	if err := p.user.ensureReachable(abs); err != nil {
		p.removeTemp()
		return err
	}
	if p.user.cred != nil {
		if err := os.Chown(abs, p.user.uid, p.user.gid); err != nil {
			p.removeTemp()
			return fmt.Errorf("harness: hand %s to the postgres user: %w", abs, err)
		}
	}
	return nil
}

func (p *Postgres) initdb(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, "initdb"),
		"-D", p.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync")
	cmd.Dir = "/" // the caller's working directory may be closed to the postgres user
	cmd.Env = pgEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if p.user.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.user.cred, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("harness: initdb %s: %w\n%s", p.dataDir, err, out.Bytes())
	}
	return nil
}

// pgEnv is our environment without the libpq variables, which would
// otherwise steer initdb and the server (PGDATA, PGPORT, ...).
func pgEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// Start starts the server again on its data directory and port after Stop or
// Kill, as a restarted database would come back in production.
func (p *Postgres) Start(ctx context.Context) error {
	if p.external != nil {
		return errors.New("harness: cannot start an external PostgreSQL server")
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.start(ctx, false)
}

// start runs the postmaster as a direct child and waits until it accepts
// connections. A freshly killed cluster may briefly refuse to start (its old
// worker processes still hold the shared memory), so start retries those
// failures; with mayMovePort a port taken meanwhile is replaced too.
func (p *Postgres) start(ctx context.Context, mayMovePort bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && !p.proc.exited() {
		return errors.New("harness: PostgreSQL is already running")
	}
	for {
		if p.port.Load() == 0 {
			port, err := freePort()
			if err != nil {
				return err
			}
			p.port.Store(int64(port))
		}
		err := p.startOnce(ctx)
		if err == nil {
			return nil
		}
		var se *startupError
		if !errors.As(err, &se) {
			return err
		}
		switch {
		case mayMovePort && se.portTaken():
			p.port.Store(0)
		case se.transient():
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startupError is a postmaster that exited before accepting connections.
type startupError struct{ log string }

func (e *startupError) Error() string {
	return "harness: PostgreSQL exited during startup:\n" + e.log
}
func (e *startupError) portTaken() bool {
	return strings.Contains(e.log, "could not bind") || strings.Contains(e.log, "Address already in use")
}
func (e *startupError) transient() bool {
	return strings.Contains(e.log, "lock file") || strings.Contains(e.log, "shared memory block is still in use")
}

func (p *Postgres) startOnce(ctx context.Context) error {
	logPath := filepath.Join(p.dataDir, "harness.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("harness: PostgreSQL log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	logStart, _ := logf.Seek(0, io.SeekEnd)

	args := []string{"-D", p.dataDir, "-p", strconv.Itoa(p.Port()), "-k", p.socketDir()}
	for _, s := range postmasterSettings {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(p.binDir, "postgres"), args...)
	cmd.Dir = "/"
	cmd.Env = pgEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its
	// workers down with it, so a dying harness leaves no server behind.
	proc, err := startChild(cmd, p.user.cred, syscall.SIGQUIT)
	if err != nil {
		return err
	}
	p.proc = proc
	for {
		if err := p.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-proc.done:
			return &startupError{log: readFrom(logPath, logStart)}
		case <-ctx.Done():
			p.stopProc(5 * time.Second)
			return fmt.Errorf("harness: PostgreSQL did not accept connections on port %d: %w\n%s", p.Port(), ctx.Err(), readFrom(logPath, logStart))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// socketDir keeps the Unix socket beside the data (so that clusters never
// share /var/run/postgresql) when the path fits in sun_path; else no socket,
// since every client here uses TCP anyway.
func (p *Postgres) socketDir() string {
	if len(p.dataDir)+len("/.s.PGSQL.65535.lock") < 100 {
		return p.dataDir
	}
	return ""
}

func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}

func (p *Postgres) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.adminURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// Stop shuts the server down (fast shutdown: sessions are disconnected,
// committed work is kept) and removes a temporary cluster. An external server
// only loses the template databases this process created there.
func (p *Postgres) Stop() error {
	if p.external != nil {
		return p.dropTemplates()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.stopProc(30 * time.Second)
	if rerr := p.removeTemp(); err == nil {
		err = rerr
	}
	return err
}

func (p *Postgres) stopProc(grace time.Duration) error {
	if p.proc == nil || p.proc.exited() {
		return nil
	}
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, grace}, {syscall.SIGQUIT, 5 * time.Second}}
	for _, s := range steps {
		if err := p.proc.signal(s.sig); err != nil {
			return err
		}
		select {
		case <-p.proc.done:
			return nil
		case <-time.After(s.wait):
		}
	}
	workers := childrenOf(p.proc.pid())
	if err := p.proc.signal(syscall.SIGKILL); err != nil {
		return err
	}
	for _, pid := range workers {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	<-p.proc.done
	return fmt.Errorf("harness: PostgreSQL (pid %d) ignored SIGINT and SIGQUIT and was killed", p.proc.pid())
}

func (p *Postgres) removeTemp() error {
	if p.tempRoot == "" {
		return nil
	}
	err := os.RemoveAll(p.tempRoot)
	if err != nil {
		return fmt.Errorf("harness: remove temporary PostgreSQL cluster: %w", err)
	}
	p.tempRoot = ""
	return nil
}

// Kill SIGKILLs the postmaster and all its workers at once, as a machine
// crash would, for fault tests. Start brings the cluster back (with crash
// recovery).
func (p *Postgres) Kill() error {
	if p.external != nil {
		return errors.New("harness: cannot kill an external PostgreSQL server")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.exited() {
		return errors.New("harness: PostgreSQL is not running")
	}
	// PostgreSQL puts each worker in a session of its own, so the process
	// group is the postmaster alone: name the workers before it dies (they
	// are reparented after) and kill them too. One forked in between finds
	// its postmaster dead and exits by itself.
	workers := childrenOf(p.proc.pid())
	if err := p.proc.signal(syscall.SIGKILL); err != nil {
		return err
	}
	for _, pid := range workers {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	<-p.proc.done
	// Signals land asynchronously: wait, so that the caller sees a dead
	// cluster and a restart does not find its shared memory still attached.
	waitGone(workers, 10*time.Second)
	return nil
}

// URL is the connection URL of database db on this server.
func (p *Postgres) URL(db string) string {
	if p.external != nil {
		u := *p.external
		u.Path = "/" + db
		u.RawPath = ""
		return u.String()
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     "127.0.0.1:" + strconv.Itoa(p.Port()),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// adminURL is the database administrative statements connect to: the one
// named by an external URL (we may not be allowed into any other), else the
// maintenance database.
func (p *Postgres) adminURL() string {
	if p.external != nil {
		return p.external.String()
	}
	return p.URL("postgres")
}

// Port is the server's TCP port on 127.0.0.1 (the external URL's port, if
// any, else 0 for external servers).
func (p *Postgres) Port() int {
	if p.external != nil {
		n, _ := strconv.Atoi(p.external.Port())
		return n
	}
	return int(p.port.Load())
}

// External reports whether the server is not ours (Kill and Start refuse).
func (p *Postgres) External() bool { return p.external != nil }

// DataDir is the cluster directory ("" for an external server).
func (p *Postgres) DataDir() string { return p.dataDir }

// PID is the postmaster's process id, 0 when it is not running here.
func (p *Postgres) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.exited() {
		return 0
	}
	return p.proc.pid()
}
