package harness

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSOptions configures StartNATS.
type NATSOptions struct {
	// StoreDir holds JetStream's files. Empty means a temporary directory
	// that Shutdown removes.
	StoreDir string
	// Port is the client port on 127.0.0.1; 0 picks a free one.
	Port int
	// URL, when set, names an external server: nothing is started.
	URL string
	// Users, when set, turn authorization on from the first connection
	// (SetUsers after start would leave the server open for a moment).
	Users []*server.User
}

// NATS is an embedded NATS server with JetStream on file storage, or an
// external server.
type NATS struct {
	external string

	mu      sync.Mutex
	opts    server.Options
	srv     *server.Server
	tempDir string
}

// MaxPayload is the largest NATS message the network needs (a block or a
// proposal); production NATS servers must allow it too (max_payload).
const MaxPayload = 8 << 20

// StartNATS starts an embedded JetStream server (or, with opts.URL, just
// records an external one) and returns once it accepts clients.
func StartNATS(opts NATSOptions) (*NATS, error) {
	if opts.URL != "" {
		return &NATS{external: opts.URL}, nil
	}
	n := &NATS{}
	dir := opts.StoreDir
	if dir == "" {
		tmp, err := makeTemp("nats")
		if err != nil {
			return nil, err
		}
		n.tempDir, dir = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("harness: JetStream directory: %w", err)
	}
	n.opts = server.Options{
		ServerName: "creditchain-harness",
		Host:       "127.0.0.1",
		Port:       opts.Port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true, // the embedding process owns its signals
		// A block proposal carries every candidate transaction: up to the
		// genesis max_bytes (4 MiB by default) plus framing.
		MaxPayload: MaxPayload,
		// No logger at all: the server's own logger exits the process on a
		// fatal error such as a taken port, which must be our error instead.
		NoLog: true,
		// JetStream sizes its limits from the machine by default; explicit
		// limits keep a test run from claiming most of a CI box.
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  8 << 30,
		Users:              opts.Users,
	}
	if opts.Port == 0 {
		n.opts.Port = server.RANDOM_PORT
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.startLocked(); err != nil {
		n.removeTemp()
		return nil, err
	}
	// Pin the port the kernel chose so that Restart comes back on it and
	// clients reconnect to the same URL.
	n.opts.Port = n.srv.Addr().(*net.TCPAddr).Port
	return n, nil
}

func (n *NATS) startLocked() error {
	if n.opts.Port > 0 && !portFree(n.opts.Port) {
		return fmt.Errorf("harness: NATS port %d is taken", n.opts.Port)
	}
	opts := n.opts // the server keeps and mutates its copy
	s, err := server.NewServer(&opts)
	if err != nil {
		return fmt.Errorf("harness: NATS server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return errors.New("harness: NATS server not ready within 15s")
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		return errors.New("harness: NATS server started without JetStream")
	}
	n.srv = s
	return nil
}

// URL is the client URL (nats://127.0.0.1:PORT).
func (n *NATS) URL() string {
	if n.external != "" {
		return n.external
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port)
}

// Port is the client port (0 for an external server).
func (n *NATS) Port() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opts.Port
}

// External reports whether the server is not ours (Restart refuses).
func (n *NATS) External() bool { return n.external != "" }

// Server is the embedded server (nil when external), for tests that inspect
// it or cut clients off.
func (n *NATS) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Restart shuts the server down and starts it again on the same store and
// port, as a crashed and restarted broker would come back.
func (n *NATS) Restart() error {
	if n.external != "" {
		return errors.New("harness: cannot restart an external NATS server")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shutdownLocked()
	return n.startLocked()
}

// Shutdown stops the server and removes a temporary store.
func (n *NATS) Shutdown() {
	if n.external != "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shutdownLocked()
	n.removeTemp()
}

func (n *NATS) shutdownLocked() {
	if n.srv == nil {
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	n.srv = nil
}

func (n *NATS) removeTemp() {
	if n.tempDir != "" {
		os.RemoveAll(n.tempDir)
		n.tempDir = ""
	}
}
