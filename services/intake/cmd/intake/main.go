// Command intake serves the intake API (DESIGN 3, 9.4).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/svc"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/creditchain/creditchain/services/intake"
	"github.com/nats-io/nats.go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func main() {
	f := svc.NewFlags("intake")
	f.Parse()
	log := svc.Logger("intake")
	if err := run(f); err != nil {
		log.Error("intake stopped", "err", err)
		os.Exit(1)
	}
}

func run(f *svc.Flags) error {
	ctx, stop := svc.Context()
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "intake")
	if err != nil {
		return err
	}
	defer shutdown(context.Background())
	g, err := svc.LoadGenesis(f.Genesis)
	if err != nil {
		return err
	}
	s, err := suite.ByName(g.CryptoSuite)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(f.NATS, nats.Name("intake"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect nats: %w", err)
	}
	defer nc.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: f.EtcdEndpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("connect etcd: %w", err)
	}
	defer cli.Close()
	// A new network's etcd holds no membership yet: publish the genesis
	// epoch. The compare-and-swap on the epoch makes this a no-op once any
	// epoch is there, so every restart and every replica may do it.
	if _, err := registry.Publish(ctx, cli, g.ChainID, g.Epoch()); err != nil {
		return err
	}
	members, err := registry.Watch(ctx, cli, g.ChainID)
	if err != nil {
		return err
	}
	srv, err := intake.Connect(ctx, g.ChainID, s, nc, members)
	if err != nil {
		return err
	}
	srv.Logger = svc.Logger("intake")
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	return svc.Serve(ctx, f.Listen, mux, func() error {
		if members.Current() == nil {
			return fmt.Errorf("membership not loaded")
		}
		if !nc.IsConnected() {
			return fmt.Errorf("nats disconnected")
		}
		return nil
	})
}
