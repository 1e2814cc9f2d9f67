package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
)

// BlockView is a block as served (DESIGN 9.6). The replication stream's own
// members (rejection receipts, the checkpoint) are left out: receipts are
// intake's to tell and the checkpoint has its own endpoint.
type BlockView struct {
	Header       block.Header        `json:"header"`
	Hash         string              `json:"hash"`
	Cosignatures []block.Cosignature `json:"cosignatures"`
	Txs          []json.RawMessage   `json:"txs"`
	Genesis      *block.Genesis      `json:"genesis,omitempty"`
}

func blockView(b *block.Block) BlockView {
	v := BlockView{Header: b.Header, Hash: b.Hash, Cosignatures: b.Cosignatures, Txs: b.Txs, Genesis: b.Genesis}
	if v.Cosignatures == nil {
		v.Cosignatures = []block.Cosignature{}
	}
	if v.Txs == nil {
		v.Txs = []json.RawMessage{}
	}
	return v
}

func (s *Server) getHead(w http.ResponseWriter, r *http.Request) {
	head, err := s.store.Head(r.Context())
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	s.serveBlock(w, r, head.Height)
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	h, aerr := parseCount(chi.URLParam(r, "height"), "height")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s.serveBlock(w, r, h)
}

func (s *Server) serveBlock(w http.ResponseWriter, r *http.Request, height uint64) {
	b, err := s.store.Block(r.Context(), height)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	if b == nil {
		writeError(w, apierr.New(404, "not_found", "no block at height %d", height))
		return
	}
	writeJSON(w, http.StatusOK, blockView(b))
}

// getCheckpoint serves the newest signed checkpoint. Every block after the
// genesis carries one; a replica holding only the genesis has none.
func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) {
	var note string
	err := s.store.Pool.QueryRow(r.Context(), `SELECT checkpoint FROM blocks WHERE checkpoint <> '' ORDER BY height DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		writeError(w, apierr.New(404, "not_found", "no checkpoint yet: the ledger holds only its genesis"))
		return
	}
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(note))
}

func (s *Server) getInclusion(w http.ResponseWriter, r *http.Request) {
	txID := chi.URLParam(r, "tx_id")
	if aerr := s.checkHexID(txID, "tx id"); aerr != nil {
		writeError(w, aerr)
		return
	}
	ctx := r.Context()
	head, err := s.store.Head(ctx)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	size := head.Log.Size()
	if q := r.URL.Query(); q.Has("size") {
		n, aerr := parseCount(q.Get("size"), "size")
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		if n > size {
			writeError(w, apierr.Malformed("size %d is beyond the log (%d leaves)", n, size))
			return
		}
		size = n
	}
	index, ok, err := s.leafIndex(ctx, txID)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	if !ok {
		writeError(w, apierr.New(404, "not_found", "no committed transaction %s", txID))
		return
	}
	if index >= size {
		writeError(w, apierr.Malformed("transaction %s is leaf %d, not in the tree of size %d", txID, index, size))
		return
	}
	root, err := s.rootAt(ctx, head.Log, size)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	p, err := s.inclusion(ctx, txID, index, size, root)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) getConsistency(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	head, err := s.store.Head(ctx)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	q := r.URL.Query()
	if !q.Has("from") {
		writeError(w, apierr.Malformed("missing parameter from"))
		return
	}
	from, aerr := parseCount(q.Get("from"), "from")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	to := head.Log.Size()
	if q.Has("to") {
		if to, aerr = parseCount(q.Get("to"), "to"); aerr != nil {
			writeError(w, aerr)
			return
		}
	}
	switch {
	case from > to:
		writeError(w, apierr.Malformed("from %d is greater than to %d", from, to))
		return
	case to > head.Log.Size():
		writeError(w, apierr.Malformed("to %d is beyond the log (%d leaves)", to, head.Log.Size()))
		return
	}
	fromRoot, err := s.rootAt(ctx, head.Log, from)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	toRoot, err := s.rootAt(ctx, head.Log, to)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	p, err := merklelog.ProveConsistency(ctx, s.store, s.store.Hasher, from, to)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, merklelog.NewConsistencyProof(from, to, fromRoot, toRoot, p))
}

// rootAt is the log's root at size leaves. Any size has one, not only the
// sizes blocks ended at: the tree of size leaves is the compact range
// [0, size), whose perfect subtrees are all stored, so this reads at most
// log2(size) nodes.
func (s *Server) rootAt(ctx context.Context, head *merklelog.Log, size uint64) ([]byte, error) {
	if size == head.Size() {
		return head.Root()
	}
	if size == 0 {
		return s.store.Hasher.EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := s.store.ReadNodes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("root at %d: %w", size, err)
	}
	l, err := merklelog.RestoreLog(s.store.Hasher, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("root at %d: %w", size, err)
	}
	return l.Root()
}

func (s *Server) getTrust(w http.ResponseWriter, r *http.Request) {
	tb, err := s.trustBundle(r.Context())
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tb)
}

// trustBundle is the chain's trust bundle as this replica knows it: the
// genesis and every membership epoch applied so far.
func (s *Server) trustBundle(ctx context.Context) (*block.TrustBundle, error) {
	epochs, err := s.store.Epochs(ctx)
	if err != nil {
		return nil, err
	}
	tb, err := block.NewTrustBundle(s.store.Genesis, s.store.Suite, epochs)
	if err != nil {
		return nil, fmt.Errorf("trust bundle: %w", err)
	}
	return tb, nil
}

// maxCount is the largest height or size JCS can carry exactly (2^53-1).
const maxCount = 1<<53 - 1

// parseCount reads a height or tree size: decimal digits only, no sign, no
// leading zeros, so that every number has one spelling.
func parseCount(s, what string) (uint64, *apierr.Error) {
	bad := apierr.Malformed("%s must be a non-negative decimal integer, got %q", what, s)
	if s == "" || len(s) > 16 || (len(s) > 1 && s[0] == '0') {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxCount {
		return 0, bad
	}
	return n, nil
}
