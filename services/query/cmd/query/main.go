// Command query serves the open query API of one institution's replica
// (DESIGN 3, 9.4), with /healthz, /readyz and /metrics beside it.
//
//	query --database URL --genesis FILE [--listen ADDR] [--issuer-url URL]
//
// Every flag falls back to CREDITCHAIN_<FLAG> in the environment (see
// pkg/svc); --database also to DATABASE_URL. API keys carry their own
// limits, set by `creditchain apikey create`.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/services/query"
)

func main() {
	f := svc.NewFlags("query")
	def := query.DefaultLimits()
	dbURL := f.String("database", os.Getenv("DATABASE_URL"), "PostgreSQL URL of the institution's replica")
	anonPerMinute := f.String("anon-per-minute", strconv.Itoa(def.AnonPerMinute), "anonymous look-ups per minute per client address")
	anonBurst := f.String("anon-burst", strconv.Itoa(def.AnonBurst), "anonymous look-ups in a burst per client address")
	issuer := f.String("issuer-url", "", "base URL of the issuer's query service, where certificate documents are fetched from (unset on the issuer's own)")
	f.Parse()
	log := svc.Logger("query")
	if err := run(f, *dbURL, *anonPerMinute, *anonBurst, *issuer); err != nil {
		log.Error("query stopped", "err", err)
		os.Exit(1)
	}
}

func run(f *svc.Flags, dbURL, perMinute, burst, issuerURL string) error {
	if dbURL == "" {
		return errors.New("--database (or CREDITCHAIN_DATABASE, DATABASE_URL) is required")
	}
	limits := query.DefaultLimits()
	var err error
	if limits.AnonPerMinute, err = strconv.Atoi(perMinute); err != nil || limits.AnonPerMinute <= 0 {
		return fmt.Errorf("--anon-per-minute %q: want a positive integer", perMinute)
	}
	if limits.AnonBurst, err = strconv.Atoi(burst); err != nil || limits.AnonBurst <= 0 {
		return fmt.Errorf("--anon-burst %q: want a positive integer", burst)
	}
	ctx, stop := svc.Context()
	defer stop()
	g, err := svc.LoadGenesis(f.Genesis)
	if err != nil {
		return err
	}
	cfg := query.Config{DatabaseURL: dbURL, Genesis: g, Limits: limits, Logger: svc.Logger("query")}
	if issuerURL != "" {
		cfg.IssuerURL = func() string { return issuerURL }
	}
	srv, err := query.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	// Graceful stop (svc.Serve) lets look-ups in flight finish, access-log
	// rows included.
	return svc.Serve(ctx, f.Listen, mux, func() error { return srv.Ready(context.Background()) })
}
