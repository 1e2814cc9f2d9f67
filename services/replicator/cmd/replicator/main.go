// Command replicator keeps one institution's PostgreSQL replica (DESIGN 3).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/creditchain/creditchain/services/replicator"
)

func main() {
	f := svc.NewFlags("replicator")
	institution := f.String("institution", "", "the institution (USCC) whose replica this is")
	db := f.String("database", "", "the institution's PostgreSQL URL")
	consumerOnly := f.String("consumer-only", "false", "true when the NATS user may only consume LEDGER (an institution's own credentials): do not create the streams")
	f.Parse()
	log := svc.Logger("replicator")
	if err := run(f, *institution, *db, *consumerOnly == "true"); err != nil {
		log.Error("replicator stopped", "err", err)
		os.Exit(1)
	}
}

func run(f *svc.Flags, institution, db string, consumerOnly bool) error {
	if institution == "" || db == "" {
		return fmt.Errorf("--institution and --database are required")
	}
	ctx, stop := svc.Context()
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "replicator")
	if err != nil {
		return err
	}
	defer shutdown(context.Background())
	g, err := svc.LoadGenesis(f.Genesis)
	if err != nil {
		return err
	}
	r, err := replicator.Start(ctx, replicator.Config{Institution: institution, Genesis: g, DatabaseURL: db,
		NATSURL: f.NATS, ConsumerOnly: consumerOnly, Logger: svc.Logger("replicator")})
	if err != nil {
		return err
	}
	defer r.Close()
	return svc.Serve(ctx, f.Listen, nil, nil)
}
