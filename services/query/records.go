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
	doc, aerr, err := s.recordDocument(r.Context(), chi.URLParam(r, "record_id"), "GET /v1/records/{record_id}")
	switch {
	case err != nil:
		s.writeUnavailable(w, r, err)
	case aerr != nil:
		writeError(w, aerr)
	default:
		writeJSON(w, http.StatusOK, doc.RecordDocument)
	}
}

// recordView is a record document and the head its proof was made at.
type recordView struct {
	RecordDocument
	// Anchor is the height of the head whose log root the proof leads
	// to: its header and cosignatures are what the proof is checked
	// against.
	Anchor uint64
}

// recordDocument reads record id as GET /v1/records/{record_id} shows it,
// writing the access-log row first when it is a person's.
func (s *Server) recordDocument(ctx context.Context, id, endpoint string) (*recordView, *apierr.Error, error) {
	if aerr := s.checkHexID(id, "record id"); aerr != nil {
		return nil, aerr, nil
	}
	rec, err := s.store.Record(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		return nil, apierr.New(404, "not_found", "no record %s", id), nil
	}
	people := map[string]personal{}
	if rec.Subject.Kind == txn.SubjectPerson {
		if people, err = s.sidecars(ctx, []string{rec.Subject.Commitment}); err != nil {
			return nil, nil, err
		}
	}
	v := &recordView{RecordDocument: RecordDocument{RecordSummary: summarize(rec, people), History: history(rec)}}
	// The proof is at the head read here, after the record: the record's
	// creating transaction is in every tree from its block on.
	if v.Proof, v.Anchor, err = s.inclusionAtHead(ctx, id); err != nil {
		return nil, nil, err
	}
	if rec.Subject.Kind == txn.SubjectPerson {
		masked := v.Subject.Code
		if masked == "" {
			masked = "(purged)" // the sidecar is gone: only the commitment is left
		}
		if err := s.logAccess(ctx, callerOf(ctx), masked, []string{rec.Subject.Commitment}, endpoint); err != nil {
			return nil, nil, err
		}
	}
	return v, nil, nil
}

// inclusionAtHead proves transaction id in the head's tree, and returns
// the head's height with it.
func (s *Server) inclusionAtHead(ctx context.Context, id string) (merklelog.InclusionProof, uint64, error) {
	head, err := s.store.Head(ctx)
	if err != nil {
		return merklelog.InclusionProof{}, 0, err
	}
	index, ok, err := s.leafIndex(ctx, id)
	if err != nil {
		return merklelog.InclusionProof{}, 0, err
	}
	if !ok {
		return merklelog.InclusionProof{}, 0, fmt.Errorf("record %s has no committed transaction", id)
	}
	root, err := head.Log.Root()
	if err != nil {
		return merklelog.InclusionProof{}, 0, err
	}
	p, err := s.inclusion(ctx, id, index, head.Log.Size(), root)
	return p, head.Height, err
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
