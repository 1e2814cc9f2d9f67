package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// Network is what an import reads from network.json (DESIGN 9.2). It is
// decoded here rather than through devnet so that the importer, like any
// client of the contract, depends on the file and not on the dev network.
type Network struct {
	ChainID      string        `json:"chain_id"`
	CryptoSuite  string        `json:"crypto_suite"`
	IntakeURL    string        `json:"intake_url"`
	Institutions []Institution `json:"institutions"`
}

// Institution is a member as network.json lists it.
type Institution struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Categories  []string `json:"categories"`
	DatabaseURL string   `json:"database_url"`
}

// LoadNetwork reads network.json.
func LoadNetwork(path string) (*Network, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("network file: %w", err)
	}
	var n Network
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("network file %s: %w", path, err)
	}
	if n.ChainID == "" || n.IntakeURL == "" {
		return nil, fmt.Errorf("network file %s: chain_id and intake_url are required", path)
	}
	return &n, nil
}

// recorder returns the institution id as a recorder: only recorders may
// send record.create, within their categories.
func (n *Network) recorder(id string) (*Institution, error) {
	for i := range n.Institutions {
		in := &n.Institutions[i]
		if in.ID != id {
			continue
		}
		if !slices.Contains(in.Roles, "recorder") {
			return nil, fmt.Errorf("institution %s (%s) is not a recorder: only recorders may create records", in.ID, in.Name)
		}
		return in, nil
	}
	return nil, fmt.Errorf("the key's institution %s is not in the network file", id)
}
