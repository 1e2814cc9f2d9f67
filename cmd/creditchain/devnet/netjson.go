package devnet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/suite"
)

// NetworkFile is network.json (DESIGN 9.2).
type NetworkFile struct {
	ChainID       string            `json:"chain_id"`
	CryptoSuite   string            `json:"crypto_suite"`
	IntakeURL     string            `json:"intake_url"`
	PortalURL     string            `json:"portal_url"`
	QueryURLs     map[string]string `json:"query_urls"`
	NATSURL       string            `json:"nats_url"`
	EtcdEndpoints []string          `json:"etcd_endpoints"`
	TrustBundle   string            `json:"trust_bundle"`
	Institutions  []NetInstitution  `json:"institutions"`
	Processes     []Process         `json:"processes"`
}

// NetInstitution is one institution in network.json.
type NetInstitution struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Categories  []string `json:"categories"`
	KeyFile     string   `json:"key_file"`
	DatabaseURL string   `json:"database_url"`
	// NATSURL is the institution's own NATS user (its replicator's), with
	// credentials; absent when NATS runs without authorization.
	NATSURL string `json:"nats_url,omitempty"`
	// Status is "suspended" or "removed"; absent for an active member.
	Status string `json:"status,omitempty"`
}

// Process is one live OS process of the network.
type Process struct {
	Name        string `json:"name"`
	Institution string `json:"institution,omitempty"`
	PID         int    `json:"pid"`
}

// QueryURLs is filled by the query service when it starts; until then the
// portal of each institution is unknown and left out.
func (n *Network) queryURLs() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]string{}
	for id, u := range n.QueryURLByID {
		out[id] = u
	}
	return out
}

// TrustBundle is the trust bundle of the network's current epochs, as the
// credit center's replica holds them (the genesis alone before it runs).
func (n *Network) TrustBundle(ctx context.Context) (*block.TrustBundle, error) {
	su, err := suite.ByName(n.Genesis.CryptoSuite)
	if err != nil {
		return nil, err
	}
	var epochs []membership.Epoch
	if r := n.Replicator(n.Institutions[0].Member.ID); r != nil {
		if epochs, err = r.Store().Epochs(ctx); err != nil {
			return nil, err
		}
	} else if sv := supervisorOf(n); sv != nil {
		if epochs, err = sv.epochs(ctx); err != nil {
			return nil, err
		}
	}
	return block.NewTrustBundle(n.Genesis, su, epochs)
}

func (n *Network) writeNetworkJSON() error {
	ctx := context.Background()
	tb, err := n.TrustBundle(ctx)
	if err != nil {
		return fmt.Errorf("trust bundle: %w", err)
	}
	tj, _ := json.MarshalIndent(tb, "", "  ")
	if err := os.WriteFile(filepath.Join(n.opts.Dir, "trust.json"), tj, 0o644); err != nil {
		return err
	}
	nf := NetworkFile{
		ChainID: n.Genesis.ChainID, CryptoSuite: n.Genesis.CryptoSuite,
		IntakeURL: n.IntakeURL, QueryURLs: n.queryURLs(), NATSURL: n.NATSURL,
		EtcdEndpoints: n.Env.Etcd.Endpoints(), TrustBundle: "trust.json",
		Processes: []Process{{Name: "dev", PID: os.Getpid()}},
	}
	nf.PortalURL = nf.QueryURLs[n.Institutions[0].Member.ID]
	if pid := n.Env.PG.PID(); pid > 0 {
		nf.Processes = append(nf.Processes, Process{Name: "postgres", PID: pid})
	}
	if sv := supervisorOf(n); sv != nil {
		nf.Processes = append(nf.Processes, sv.children()...)
	}
	n.mu.Lock()
	insts := slices.Clone(n.Institutions)
	n.mu.Unlock()
	for _, in := range insts {
		url, err := n.ReplicaURL(ctx, in.Member.ID)
		if err != nil {
			return err
		}
		cats := in.Member.Categories
		if cats == nil {
			cats = []string{}
		}
		ni := NetInstitution{ID: in.Member.ID, Name: in.Member.Name,
			Roles: in.Member.Roles, Categories: cats, KeyFile: filepath.Join("keys", in.Member.ID+".json"), DatabaseURL: url}
		if !in.Member.Active() {
			ni.Status = in.Member.Status
		} else if n.mem != nil && n.mem.auth != nil {
			ni.NATSURL = n.natsURLFor(NATSReplicaUser(in.Member.ID))
		}
		nf.Institutions = append(nf.Institutions, ni)
	}
	sort.SliceStable(nf.Processes, func(i, j int) bool { return nf.Processes[i].Name < nf.Processes[j].Name })
	data, _ := json.MarshalIndent(nf, "", "  ")
	tmp := filepath.Join(n.opts.Dir, "network.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(n.opts.Dir, "network.json"))
}

// PortalURL is the credit center's query service, once started.
func (n *Network) PortalURL() string { return n.queryURLs()[n.Institutions[0].Member.ID] }
