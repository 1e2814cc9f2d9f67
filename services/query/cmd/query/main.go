// Command query serves the open query API of one institution's replica.
//
//	query --database URL --genesis FILE [--listen ADDR]
//
// Every flag may also come from the environment: QUERY_DATABASE_URL (or
// DATABASE_URL), QUERY_GENESIS, QUERY_LISTEN, QUERY_ANON_PER_MINUTE,
// QUERY_ANON_BURST. Flags win. API keys carry their own limits, set by
// `creditchain apikey create`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/services/query"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "query:", err)
		os.Exit(1)
	}
}

func env(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

func run(args []string) error {
	def := query.DefaultLimits()
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	dbURL := fs.String("database", env("QUERY_DATABASE_URL", "DATABASE_URL"), "PostgreSQL URL of the institution's replica")
	genesisFile := fs.String("genesis", env("QUERY_GENESIS"), "the chain's genesis.json")
	addr := fs.String("listen", env("QUERY_LISTEN"), "address to listen on (default 127.0.0.1:8080)")
	anonPerMin := fs.Int64("anon-per-minute", envInt("QUERY_ANON_PER_MINUTE", int64(def.AnonPerMinute)), "anonymous look-ups per minute per address")
	anonBurst := fs.Int64("anon-burst", envInt("QUERY_ANON_BURST", int64(def.AnonBurst)), "anonymous burst per address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" || *genesisFile == "" {
		return errors.New("--database and --genesis are required")
	}
	if *addr == "" {
		*addr = "127.0.0.1:8080"
	}
	raw, err := os.ReadFile(*genesisFile)
	if err != nil {
		return err
	}
	g, err := block.DecodeGenesis(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *genesisFile, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv, err := query.Open(ctx, query.Config{DatabaseURL: *dbURL, Genesis: g, Logger: logger,
		Limits: query.Limits{AnonPerMinute: int(*anonPerMin), AnonBurst: int(*anonBurst), KeyPerMinute: def.KeyPerMinute, KeyPerDay: def.KeyPerDay}})
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := &http.Server{Addr: *addr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	logger.Info("query listening", "addr", *addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful: finish the look-ups in flight (and their access-log rows).
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}
