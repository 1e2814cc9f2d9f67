// Package svc is what every service binary shares: configuration from flags
// with environment fallbacks, the genesis and key files, an HTTP listener
// for /healthz, /readyz and Prometheus /metrics, structured logs and a
// graceful stop on SIGINT/SIGTERM.
package svc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Flags are the settings common to services. Every flag falls back to an
// environment variable CREDITCHAIN_<NAME> (upper case, dashes as underscores).
type Flags struct {
	fs      *flag.FlagSet
	Genesis string
	Listen  string
	NATS    string
	Etcd    string
}

// NewFlags declares the common flags of service name.
func NewFlags(name string) *Flags {
	f := &Flags{fs: flag.NewFlagSet(name, flag.ExitOnError)}
	f.fs.StringVar(&f.Genesis, "genesis", env("genesis", "genesis.json"), "genesis file of the chain")
	f.fs.StringVar(&f.Listen, "listen", env("listen", "127.0.0.1:9090"), "address for /healthz, /readyz and /metrics (and the API, for HTTP services)")
	f.fs.StringVar(&f.NATS, "nats", env("nats", "nats://127.0.0.1:4222"), "NATS URL")
	f.fs.StringVar(&f.Etcd, "etcd", env("etcd", "http://127.0.0.1:2379"), "etcd endpoints, comma-separated")
	return f
}

// String declares a service-specific string flag with its env fallback.
func (f *Flags) String(name, def, usage string) *string {
	return f.fs.String(name, env(name, def), usage)
}

// Parse parses the command line.
func (f *Flags) Parse() { _ = f.fs.Parse(os.Args[1:]) }

// EtcdEndpoints splits the etcd flag.
func (f *Flags) EtcdEndpoints() []string {
	var out []string
	for _, e := range strings.Split(f.Etcd, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func env(name, def string) string {
	if v := os.Getenv("CREDITCHAIN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v
	}
	return def
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*block.Genesis, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	g, err := block.DecodeGenesis(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, g.Validate()
}

// Logger is the service's structured logger (JSON on stderr); lines logged
// with a traced context carry trace_id and span_id.
func Logger(service string) *slog.Logger {
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, nil))).With("service", service)
}

// Context ends on SIGINT or SIGTERM.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ProcessTokenEnv names the environment variable through which a
// supervisor hands a process its token; Serve answers /healthz and /readyz
// with it in the ProcessTokenHeader header.
const (
	ProcessTokenEnv    = "CREDITCHAIN_PROCESS_TOKEN"
	ProcessTokenHeader = "Creditchain-Process-Token"
)

// Serve serves mux (which gets /healthz, /readyz and /metrics added) on
// addr until ctx ends, then shuts down gracefully. ready reports readiness.
func Serve(ctx context.Context, addr string, mux *http.ServeMux, ready func() error) error {
	if mux == nil {
		mux = http.NewServeMux()
	}
	// A supervisor that starts us names this process with a token, and
	// checks it in the health answers: the port it gave us may have been
	// taken by another program, whose /readyz must not count as ours.
	token := os.Getenv(ProcessTokenEnv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if token != "" {
			w.Header().Set(ProcessTokenHeader, token)
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if token != "" {
			w.Header().Set(ProcessTokenHeader, token)
		}
		if ready != nil {
			if err := ready(); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.Handle("GET /metrics", promhttp.Handler())
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
