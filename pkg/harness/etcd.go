package harness

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// EtcdOptions configures StartEtcd.
type EtcdOptions struct {
	// DataDir holds etcd's data. Empty means a temporary directory that Stop
	// removes.
	DataDir string
	// ClientPort and PeerPort are on 127.0.0.1; 0 picks free ones.
	ClientPort, PeerPort int
	// Endpoints, when set, name an external cluster: nothing is started.
	Endpoints []string
	// NoFsync trades durability against a machine crash for speed; it is
	// implied for a temporary DataDir, which never outlives the process.
	NoFsync bool
}

// Etcd is an embedded single-member etcd, or an external cluster.
type Etcd struct {
	external []string

	mu         sync.Mutex
	e          *embed.Etcd
	dataDir    string
	tempDir    string
	clientPort int
	peerPort   int
	noFsync    bool
	logLevel   zap.AtomicLevel
}

// StartEtcd starts an embedded etcd (or, with opts.Endpoints, just records
// an external cluster) and returns once it serves requests.
func StartEtcd(opts EtcdOptions) (*Etcd, error) {
	if len(opts.Endpoints) > 0 {
		return &Etcd{external: opts.Endpoints}, nil
	}
	et := &Etcd{dataDir: opts.DataDir, noFsync: opts.NoFsync}
	if et.dataDir == "" {
		tmp, err := makeTemp("etcd")
		if err != nil {
			return nil, err
		}
		et.tempDir, et.dataDir = tmp, tmp
	} else if err := os.MkdirAll(et.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("harness: etcd directory: %w", err)
	}
	// Free ports are found by probing, so another process can take one
	// before etcd binds it: retry with new ones when we chose them.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if et.clientPort, err = pickPort(opts.ClientPort); err != nil {
			break
		}
		if et.peerPort, err = pickPort(opts.PeerPort); err != nil {
			break
		}
		if err = et.start(); err == nil {
			return et, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
		// A remembered port can be held by a socket in TIME_WAIT or by
		// another program; clients learn the new one from network.json.
		opts.ClientPort, opts.PeerPort = 0, 0
	}
	et.removeTemp()
	return nil, err
}

func (et *Etcd) start() error {
	cfg := embed.NewConfig()
	cfg.Name = "harness"
	cfg.Dir = et.dataDir
	client := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(et.clientPort)}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(et.peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Errors only; Stop raises the level further because etcd reports its
	// own listeners closing as errors.
	et.logLevel = zap.NewAtomicLevelAt(zap.ErrorLevel)
	zc := zap.NewProductionConfig()
	zc.Level = et.logLevel
	zc.Sampling = nil
	lg, err := zc.Build()
	if err != nil {
		return fmt.Errorf("harness: etcd logger: %w", err)
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	cfg.UnsafeNoFsync = et.noFsync || et.tempDir != ""

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("harness: start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("harness: etcd failed while starting: %w", err)
	case <-time.After(30 * time.Second):
		e.Close()
		return errors.New("harness: etcd not ready within 30s")
	}
	et.e = e
	return nil
}

// Endpoints are the client URLs.
func (et *Etcd) Endpoints() []string {
	if et.external != nil {
		return append([]string(nil), et.external...)
	}
	return []string{"http://127.0.0.1:" + strconv.Itoa(et.clientPort)}
}

// ClientPort and PeerPort are the embedded member's ports (0 when external).
func (et *Etcd) ClientPort() int { return et.clientPort }
func (et *Etcd) PeerPort() int   { return et.peerPort }

// External reports whether the cluster is not ours.
func (et *Etcd) External() bool { return et.external != nil }

// Client opens a client to the endpoints; the caller closes it.
func (et *Etcd) Client() (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   et.Endpoints(),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("harness: etcd client: %w", err)
	}
	return c, nil
}

// Stop stops the member and removes a temporary data directory.
func (et *Etcd) Stop() {
	if et.external != nil {
		return
	}
	et.mu.Lock()
	defer et.mu.Unlock()
	if et.e != nil {
		et.logLevel.SetLevel(zap.FatalLevel)
		et.e.Close()
		et.e = nil
	}
	et.removeTemp()
}

func (et *Etcd) removeTemp() {
	if et.tempDir != "" {
		os.RemoveAll(et.tempDir)
		et.tempDir = ""
	}
}
