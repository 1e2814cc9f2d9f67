package query

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/services/query/portal"
)

// recentBlocks is how many blocks the ledger page lists.
const recentBlocks = 10

func (s *Server) pageLedger(w http.ResponseWriter, r *http.Request) {
	page, err := s.ledgerPage(r.Context())
	if err != nil {
		s.pageUnavailable(w, r, err)
		return
	}
	s.render(w, r, portal.NewView(r, "ledger", "title.ledger", page))
}

func (s *Server) ledgerPage(ctx context.Context) (*portal.LedgerPage, error) {
	g := s.store.Genesis
	gb, err := g.Block(s.store.Suite)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	page := &portal.LedgerPage{ChainID: g.ChainID, Suite: g.CryptoSuite, Quorum: g.Quorum, GenesisHash: gb.Hash}
	epochs, err := s.store.Epochs(ctx)
	if err != nil {
		return nil, err
	}
	current := membership.Epoch{Members: g.Members}
	if len(epochs) > 0 {
		current = epochs[len(epochs)-1]
	}
	names := map[string]string{}
	page.Epoch = current.Epoch
	for _, m := range current.Members {
		names[m.ID] = m.Name
		if m.Status != "" && m.Status != membership.StatusActive {
			continue
		}
		page.Members = append(page.Members, portal.MemberRow{ID: m.ID, Name: m.Name, Kind: m.Kind, Roles: m.Roles, Categories: m.Categories})
	}
	if page.Blocks, err = s.recentBlocks(ctx, names); err != nil {
		return nil, err
	}
	if len(page.Blocks) > 0 {
		page.Head = page.Blocks[0]
	}
	if page.Policies, err = s.activePolicies(ctx); err != nil {
		return nil, err
	}
	return page, nil
}

// recentBlocks are the newest blocks, newest first.
func (s *Server) recentBlocks(ctx context.Context, names map[string]string) ([]portal.BlockRow, error) {
	rows, err := s.store.Pool.Query(ctx, `SELECT hash, header, jsonb_array_length(cosignatures) FROM blocks
		ORDER BY height DESC LIMIT $1`, recentBlocks)
	if err != nil {
		return nil, fmt.Errorf("read blocks: %w", err)
	}
	defer rows.Close()
	var out []portal.BlockRow
	for rows.Next() {
		var hash, raw string
		var cosigs int
		if err := rows.Scan(&hash, &raw, &cosigs); err != nil {
			return nil, fmt.Errorf("read blocks: %w", err)
		}
		var h block.Header
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			return nil, fmt.Errorf("decode header: %w", err)
		}
		out = append(out, portal.BlockRow{Height: h.Height, Hash: hash, Time: h.Time, Proposer: h.Proposer,
			ProposerName: names[h.Proposer], TxCount: h.TxCount, Cosignatures: cosigs, LogSize: h.LogSize, LogRoot: h.LogRoot})
	}
	return out, rows.Err()
}

// activePolicies are the policies in force for new records, by id.
func (s *Server) activePolicies(ctx context.Context) ([]portal.PolicyRow, error) {
	rows, err := s.store.Pool.Query(ctx, `SELECT doc FROM policies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	defer rows.Close()
	var out []portal.PolicyRow
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
		var ps ledger.PolicyState
		if err := json.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("decode policy: %w", err)
		}
		if v, ok := ps.Version(ps.Active); ok {
			p := v.Policy
			out = append(out, portal.PolicyRow{ID: p.ID, Version: p.Version, PurgeAfter: p.PurgeAfter, Description: p.Description})
		}
	}
	return out, rows.Err()
}
