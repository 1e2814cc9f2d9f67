package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
)

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "record_id")
	if aerr := s.checkHexID(id, "record id"); aerr != nil {
		writeError(w, aerr)
		return
	}
	ctx := r.Context()
	rec, err := s.store.Record(ctx, id)
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	if rec == nil {
		writeError(w, apierr.New(404, "not_found", "no record %s", id))
		return
	}
	people := map[string]personal{}
	if rec.Subject.Kind == txn.SubjectPerson {
		if people, err = s.sidecars(ctx, []string{rec.Subject.Commitment}); err != nil {
			s.writeUnavailable(w, r, err)
			return
		}
	}
	doc := RecordDocument{RecordSummary: summarize(rec, people), History: history(rec)}
	// The proof is at the head read here, after the record: the record's
	// creating transaction is in every tree from its block on.
	if doc.Proof, err = s.inclusionAtHead(ctx, id); err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	if rec.Subject.Kind == txn.SubjectPerson {
		masked := doc.Subject.Code
		if masked == "" {
			masked = "(purged)" // the sidecar is gone: only the commitment is left
		}
		if err := s.logAccess(ctx, callerOf(ctx), masked, []string{rec.Subject.Commitment}, "GET /v1/records/{record_id}"); err != nil {
			s.writeUnavailable(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

// inclusionAtHead proves transaction id in the head's tree.
func (s *Server) inclusionAtHead(ctx context.Context, id string) (merklelog.InclusionProof, error) {
	head, err := s.store.Head(ctx)
	if err != nil {
		return merklelog.InclusionProof{}, err
	}
	index, ok, err := s.leafIndex(ctx, id)
	if err != nil {
		return merklelog.InclusionProof{}, err
	}
	if !ok {
		return merklelog.InclusionProof{}, fmt.Errorf("record %s has no committed transaction", id)
	}
	root, err := head.Log.Root()
	if err != nil {
		return merklelog.InclusionProof{}, err
	}
	return s.inclusion(ctx, id, index, head.Log.Size(), root)
}

// leafIndex is the log position of a committed transaction.
func (s *Server) leafIndex(ctx context.Context, txID string) (uint64, bool, error) {
	var idx int64
	err := s.store.Pool.QueryRow(ctx, `SELECT leaf_index FROM txs WHERE tx_id = $1`, txID).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read transaction %s: %w", txID, err)
	}
	return uint64(idx), true, nil
}

func (s *Server) inclusion(ctx context.Context, txID string, index, size uint64, root []byte) (merklelog.InclusionProof, error) {
	p, err := merklelog.ProveInclusion(ctx, s.store, s.store.Hasher, index, size)
	if err != nil {
		return merklelog.InclusionProof{}, err
	}
	return merklelog.NewInclusionProof(txID, index, size, root, p), nil
}

// checkHexID refuses anything but the suite's lowercase hex hash length.
func (s *Server) checkHexID(id, what string) *apierr.Error {
	want := 2 * s.store.Hasher.Size()
	if len(id) != want {
		return apierr.Malformed("%s must be %d lowercase hex characters", what, want)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return apierr.Malformed("%s must be %d lowercase hex characters", what, want)
		}
	}
	return nil
}
