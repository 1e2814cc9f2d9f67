// Command exit-contract runs one recorder's exit-contract (DESIGN 3): it
// watches the institution's replica and submits record.exit and
// record.purge through intake, signed with the recorder's key.
//
// Flags override the environment variables named beside them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	exitcontract "github.com/creditchain/creditchain/services/exit-contract"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "exit-contract:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	keyFile := flag.String("key", env("CREDITCHAIN_KEY_FILE", ""), "the recorder's key file (CREDITCHAIN_KEY_FILE)")
	dbURL := flag.String("database", env("DATABASE_URL", ""), "the institution's replica (DATABASE_URL)")
	intakeURL := flag.String("intake", env("CREDITCHAIN_INTAKE_URL", ""), "intake base URL (CREDITCHAIN_INTAKE_URL)")
	listen := flag.String("listen", env("CREDITCHAIN_LISTEN", "127.0.0.1:0"), "address of /healthz, /readyz and /status (CREDITCHAIN_LISTEN)")
	poll := flag.Duration("poll", 200*time.Millisecond, "how often to read the replica head")
	resubmit := flag.Duration("resubmit-after", 30*time.Second, "least time between two submissions for one record")
	flag.Parse()
	if *keyFile == "" || *dbURL == "" || *intakeURL == "" {
		flag.Usage()
		return errors.New("--key, --database and --intake are required")
	}
	kf, err := suite.LoadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	svc, err := exitcontract.Start(ctx, exitcontract.Config{Key: kf, DatabaseURL: *dbURL, IntakeURL: *intakeURL,
		PollInterval: *poll, ResubmitAfter: *resubmit, Logger: logger})
	if err != nil {
		return err
	}
	defer svc.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !svc.Status().Ready {
			http.Error(w, "schedule not loaded yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	exitcontract.RegisterMetrics(svc)
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(svc.Status())
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("exit-contract running", "institution", kf.Institution, "listen", *listen)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", *listen, err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
