package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Options configures Start.
type Options struct {
	// Dir makes the servers persistent: Dir/postgres, Dir/nats and Dir/etcd
	// are resumed when they exist, and the ports are kept in Dir/ports.json
	// and reused while free. Empty means temporary servers removed by Close.
	Dir string
	// PostgresURL, NATSURL and EtcdEndpoints select external servers. When
	// empty they come from the environment (see FromEnv) unless IgnoreEnv.
	PostgresURL   string
	NATSURL       string
	EtcdEndpoints []string
	IgnoreEnv     bool
	// Progress, when set, is told as each server comes up ("postgres",
	// "nats" or "etcd", and where it listens); calls never overlap.
	Progress func(server, address string)
}

// Env is one set of servers: the database server, the broker and the
// coordination store that a creditchain network runs on.
type Env struct {
	PG   *Postgres
	NATS *NATS
	Etcd *Etcd
	// Dir is the directory the servers keep their data in.
	Dir string

	temp bool
}

// Environment variables that select external servers.
const (
	EnvDatabaseURL   = "CREDITCHAIN_DATABASE_URL"
	EnvDatabaseURLv2 = "DATABASE_URL" // the conventional name, used when ours is unset
	EnvNATSURL       = "CREDITCHAIN_NATS_URL"
	EnvEtcdEndpoints = "CREDITCHAIN_ETCD_ENDPOINTS" // comma-separated
)

// FromEnv fills the external-server fields of o that are empty from the
// environment.
func (o Options) FromEnv() Options {
	if o.PostgresURL == "" {
		o.PostgresURL = os.Getenv(EnvDatabaseURL)
		if o.PostgresURL == "" {
			o.PostgresURL = os.Getenv(EnvDatabaseURLv2)
		}
	}
	if o.NATSURL == "" {
		o.NATSURL = os.Getenv(EnvNATSURL)
	}
	if len(o.EtcdEndpoints) == 0 {
		for _, ep := range strings.Split(os.Getenv(EnvEtcdEndpoints), ",") {
			if ep = strings.TrimSpace(ep); ep != "" {
				o.EtcdEndpoints = append(o.EtcdEndpoints, ep)
			}
		}
	}
	return o
}

// Start starts PostgreSQL, NATS and etcd concurrently. If any fails, the
// others are stopped again and the error names every failure.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if !opts.IgnoreEnv {
		opts = opts.FromEnv()
	}
	env := &Env{Dir: opts.Dir}
	if env.Dir == "" {
		sweepStale()
		tmp, err := makeTemp("env")
		if err != nil {
			return nil, err
		}
		env.Dir, env.temp = tmp, true
	} else if err := os.MkdirAll(env.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	ports, err := loadPorts(env.Dir)
	if err != nil {
		env.removeTemp()
		return nil, err
	}

	var progressMu sync.Mutex
	report := func(server, address string) {
		if opts.Progress == nil {
			return
		}
		progressMu.Lock()
		defer progressMu.Unlock()
		opts.Progress(server, address)
	}
	var wg sync.WaitGroup
	var pgErr, natsErr, etcdErr error
	wg.Add(3)
	go func() {
		defer wg.Done()
		env.PG, pgErr = StartPostgres(ctx, PostgresOptions{
			DataDir: filepath.Join(env.Dir, "postgres"),
			Port:    ports.reuse(ports.Postgres),
			URL:     opts.PostgresURL,
		})
		if pgErr == nil {
			report("postgres", env.PG.URL("postgres"))
		}
	}()
	go func() {
		defer wg.Done()
		env.NATS, natsErr = StartNATS(NATSOptions{
			StoreDir: filepath.Join(env.Dir, "nats"),
			Port:     ports.reuse(ports.NATS),
			URL:      opts.NATSURL,
		})
		if natsErr == nil {
			report("nats", env.NATS.URL())
		}
	}()
	go func() {
		defer wg.Done()
		env.Etcd, etcdErr = StartEtcd(EtcdOptions{
			DataDir:    filepath.Join(env.Dir, "etcd"),
			ClientPort: ports.reuse(ports.EtcdClient),
			PeerPort:   ports.reuse(ports.EtcdPeer),
			Endpoints:  opts.EtcdEndpoints,
			NoFsync:    env.temp,
		})
		if etcdErr == nil {
			report("etcd", strings.Join(env.Etcd.Endpoints(), ","))
		}
	}()
	wg.Wait()
	if err := errors.Join(pgErr, natsErr, etcdErr); err != nil {
		return nil, errors.Join(err, env.Close())
	}
	if err := env.savePorts(); err != nil {
		return nil, errors.Join(err, env.Close())
	}
	return env, nil
}

// Close stops every server that is running and removes a temporary Dir.
func (env *Env) Close() error {
	var wg sync.WaitGroup
	var pgErr error
	if env.PG != nil {
		wg.Add(1)
		go func() { defer wg.Done(); pgErr = env.PG.Stop() }()
	}
	if env.NATS != nil {
		wg.Add(1)
		go func() { defer wg.Done(); env.NATS.Shutdown() }()
	}
	if env.Etcd != nil {
		wg.Add(1)
		go func() { defer wg.Done(); env.Etcd.Stop() }()
	}
	wg.Wait()
	return errors.Join(pgErr, env.removeTemp())
}

func (env *Env) removeTemp() error {
	if !env.temp {
		return nil
	}
	env.temp = false
	if err := os.RemoveAll(env.Dir); err != nil {
		return fmt.Errorf("harness: remove %s: %w", env.Dir, err)
	}
	return nil
}
