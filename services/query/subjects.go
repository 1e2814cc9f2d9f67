package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/go-chi/chi/v5"
)

// Unpublished are the categories a subject look-up never shows: minor
// dishonesty (轻微失信) is recorded for the authorities but not published
// (DESIGN 5), so it neither appears nor makes a subject "listed".
var Unpublished = []string{"minor-dishonesty"}

// SubjectAnswer is the answer of a subject look-up (DESIGN 9.6).
type SubjectAnswer struct {
	// Code is the code looked up, masked when it is a valid citizen ID.
	Code   string `json:"code"`
	Kind   string `json:"kind"`
	Status string `json:"status"` // listed|clear
	// Records are the subject's active, published records.
	Records []RecordSummary `json:"records"`
}

// maxLookupBody bounds POST /v1/subjects/lookup: a code is 18 characters.
const maxLookupBody = 4 << 10

func (s *Server) getSubject(w http.ResponseWriter, r *http.Request) {
	if aerr := noParameters(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	code, err := url.PathUnescape(chi.URLParam(r, "code"))
	if err != nil {
		writeError(w, apierr.New(400, "invalid_code", "the code is not a valid path segment"))
		return
	}
	s.lookup(w, r, code, "GET /v1/subjects/{code}")
}

func (s *Server) postSubject(w http.ResponseWriter, r *http.Request) {
	if aerr := noParameters(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLookupBody+1))
	if err != nil {
		writeError(w, apierr.Malformed("reading body: %v", err))
		return
	}
	if len(body) > maxLookupBody {
		writeError(w, apierr.New(413, "too_large", "body exceeds %d bytes", maxLookupBody))
		return
	}
	var req struct {
		Code *string `json:"code"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, apierr.Malformed("body must be {\"code\": \"...\"}: %v", err))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, apierr.Malformed("trailing data after the JSON value"))
		return
	}
	if req.Code == nil {
		writeError(w, apierr.Malformed("missing member \"code\""))
		return
	}
	s.lookup(w, r, *req.Code, "POST /v1/subjects/lookup")
}

// noParameters refuses query parameters on look-ups: there is no paging, no
// filter and no partial match to ask for (DESIGN 9.4: never list or
// enumerate), and silently ignoring one would suggest otherwise.
func noParameters(r *http.Request) *apierr.Error {
	if r.URL.RawQuery != "" {
		return apierr.Malformed("a subject look-up takes no query parameters: one exact code, no paging or filters")
	}
	return nil
}

// lookup answers a look-up of code.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, code, endpoint string) {
	ans, aerr, err := s.lookupCode(r.Context(), code, endpoint)
	switch {
	case err != nil:
		s.writeUnavailable(w, r, err)
	case aerr != nil:
		writeError(w, aerr)
	default:
		writeJSON(w, http.StatusOK, ans)
	}
}

// lookupCode looks code up for the caller in ctx: the answer, or the
// client's error, or a failure of the replica. Codes are looked up
// exactly: they are validated first (which refuses every wildcard, prefix
// or pattern, since none is a valid code) and then matched with "=", never
// LIKE. A look-up of a code valid as a citizen ID is written to the access
// log before it is answered.
func (s *Server) lookupCode(ctx context.Context, code, endpoint string) (*SubjectAnswer, *apierr.Error, error) {
	kinds, err := s.classify(code)
	if err != nil {
		return nil, apierr.New(400, "invalid_code", "%v", err), nil
	}
	var org, person bool
	for _, k := range kinds {
		org = org || k == ids.Organization
		person = person || k == ids.Person
	}
	ans, commitments, err := s.subject(ctx, code, org, person)
	if err != nil {
		return nil, nil, err
	}
	if person {
		if err := s.logAccess(ctx, callerOf(ctx), ans.Code, commitments, endpoint); err != nil {
			return nil, nil, err
		}
	}
	return ans, nil, nil
}

// classify is ids.Classify under the chain's legacy allow-list.
func (s *Server) classify(code string) ([]ids.Kind, error) {
	return ids.ClassifyWith(code, s.clock(), s.legacy)
}

// subject reads the records of a valid code under the schemes it is valid
// for, and returns the person's commitments found (for the access log).
func (s *Server) subject(ctx context.Context, code string, org, person bool) (*SubjectAnswer, []string, error) {
	ans := &SubjectAnswer{Code: code, Kind: string(ids.Organization), Status: "clear", Records: []RecordSummary{}}
	if !org {
		ans.Kind = string(ids.Person)
	}
	// A code valid as a citizen ID is echoed masked even when it is also a
	// valid USCC: the answer cannot know it is not someone's ID number.
	if person {
		ans.Code = ids.MaskID(code)
	}
	people := map[string]personal{}
	commitments := []string{}
	if person {
		// The ledger holds only commitments; the replica's sidecars map the
		// ID number to them (one per record, each with its own salt).
		rows, err := s.store.Pool.Query(ctx, `SELECT commitment, name FROM personal WHERE id_number = $1 ORDER BY commitment`, code)
		if err != nil {
			return nil, nil, fmt.Errorf("read sidecars: %w", err)
		}
		for rows.Next() {
			var c, name string
			if err := rows.Scan(&c, &name); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("read sidecars: %w", err)
			}
			commitments = append(commitments, c)
			people[c] = personal{maskedCode: ids.MaskID(code), maskedName: ids.MaskName(name)}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("read sidecars: %w", err)
		}
	}
	orgCode := ""
	if org {
		orgCode = code
	}
	if orgCode == "" && len(commitments) == 0 {
		return ans, commitments, nil
	}
	// Two index look-ups on records_by_subject rather than one OR, which
	// the planner may turn into a scan once records number in millions.
	rows, err := s.store.Pool.Query(ctx, `SELECT doc FROM (
			SELECT doc, updated_height, record_id, status, category FROM records
			WHERE subject_code = $1 AND subject_kind = 'organization'
			UNION ALL
			SELECT doc, updated_height, record_id, status, category FROM records
			WHERE subject_code = ANY($2) AND subject_kind = 'person'
		) r
		WHERE status = $3 AND category <> ALL($4)
		ORDER BY updated_height DESC, record_id`, orgCode, commitments, ledger.StatusActive, Unpublished)
	if err != nil {
		return nil, nil, fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, nil, fmt.Errorf("read records: %w", err)
		}
		var rec ledger.Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, nil, fmt.Errorf("decode record: %w", err)
		}
		ans.Records = append(ans.Records, summarize(&rec, people))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read records: %w", err)
	}
	if len(ans.Records) > 0 {
		ans.Status = "listed"
	}
	return ans, commitments, nil
}
