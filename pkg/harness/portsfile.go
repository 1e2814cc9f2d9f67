package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// portsFile is Dir/ports.json: the ports a persistent Env used last time, so
// that URLs printed or written into configuration stay valid across restarts.
type portsFile struct {
	Postgres   int `json:"postgres,omitempty"`
	NATS       int `json:"nats,omitempty"`
	EtcdClient int `json:"etcd_client,omitempty"`
	EtcdPeer   int `json:"etcd_peer,omitempty"`
}

func loadPorts(dir string) (portsFile, error) {
	var p portsFile
	b, err := os.ReadFile(filepath.Join(dir, "ports.json"))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("harness: read ports: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("harness: parse %s: %w", filepath.Join(dir, "ports.json"), err)
	}
	return p, nil
}

// reuse returns the remembered port when it is still free, else 0 (pick a
// new one): a port another program took since is not worth failing over.
func (portsFile) reuse(port int) int {
	if portFree(port) {
		return port
	}
	return 0
}

func (env *Env) savePorts() error {
	p := portsFile{}
	if !env.PG.External() {
		p.Postgres = env.PG.Port()
	}
	if !env.NATS.External() {
		p.NATS = env.NATS.Port()
	}
	if !env.Etcd.External() {
		p.EtcdClient, p.EtcdPeer = env.Etcd.ClientPort(), env.Etcd.PeerPort()
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("harness: encode ports: %w", err)
	}
	path := filepath.Join(env.Dir, "ports.json")
	if err := os.WriteFile(path+".tmp", append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("harness: write ports: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("harness: write ports: %w", err)
	}
	return nil
}
