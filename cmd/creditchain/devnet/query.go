package devnet

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/creditchain/creditchain/services/query"
)

// StartQuery serves institution id's replica with the open query API on
// 127.0.0.1:port (0: 8080, the portal's port, when free; -1: any free
// port) and records its URL in QueryURLByID.
func (n *Network) StartQuery(ctx context.Context, id string, port int) error {
	dbURL, err := n.ReplicaURL(ctx, id)
	if err != nil {
		return err
	}
	// Certificate documents live in the issuer's replica: the others'
	// services fetch them from the issuer's query service (checked against
	// their own ledger), which may start after them.
	var issuer func() string
	if id != n.Genesis.Issuer.ID {
		issuer = func() string { return n.queryURLs()[n.Genesis.Issuer.ID] }
	}
	srv, err := query.Open(ctx, query.Config{DatabaseURL: dbURL, Genesis: n.Genesis, Clock: n.opts.Clock, Logger: n.opts.Logger,
		IssuerURL: issuer})
	if err != nil {
		return fmt.Errorf("query of %s: %w", id, err)
	}
	ln, err := listen(port, 8080)
	if err != nil {
		srv.Close()
		return fmt.Errorf("query of %s: %w", id, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	// Close shuts the HTTP servers down; the replica's pool goes with it.
	hs.RegisterOnShutdown(srv.Close)
	n.mu.Lock()
	if n.QueryURLByID == nil {
		n.QueryURLByID = map[string]string{}
	}
	n.QueryURLByID[id] = "http://" + ln.Addr().String()
	n.servers = append(n.servers, hs)
	n.mu.Unlock()
	go func() { _ = hs.Serve(ln) }()
	return nil
}
