// Command consensus-ledger runs one recorder's consensus-ledger (DESIGN 3).
package main

import (
	"context"
	"os"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/pkg/telemetry"
	consensus "github.com/creditchain/creditchain/services/consensus-ledger"
)

func main() {
	f := svc.NewFlags("consensus-ledger")
	keyPath := f.String("key", "key.json", "the recorder institution's key file")
	db := f.String("database", "", "this instance's own PostgreSQL URL")
	f.Parse()
	log := svc.Logger("consensus-ledger")
	if err := run(f, *keyPath, *db); err != nil {
		log.Error("consensus-ledger stopped", "err", err)
		os.Exit(1)
	}
}

func run(f *svc.Flags, keyPath, db string) error {
	ctx, stop := svc.Context()
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "consensus-ledger")
	if err != nil {
		return err
	}
	defer shutdown(context.Background())
	g, err := svc.LoadGenesis(f.Genesis)
	if err != nil {
		return err
	}
	key, err := suite.LoadKeyFile(keyPath)
	if err != nil {
		return err
	}
	node, err := consensus.Start(ctx, consensus.Config{Genesis: g, Key: key, DatabaseURL: db, NATSURL: f.NATS,
		EtcdEndpoints: f.EtcdEndpoints(), Logger: svc.Logger("consensus-ledger")})
	if err != nil {
		return err
	}
	defer node.Close()
	return svc.Serve(ctx, f.Listen, nil, nil)
}
