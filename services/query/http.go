package query

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/go-chi/chi/v5"
)

// Handler is the HTTP handler with every route of DESIGN 9.4 and the
// portal's pages (9.7).
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(measured, recoverer(s))
	// Subject look-ups and record documents show subjects: they are the
	// "look-ups" that rate limits, quotas and the access log are about.
	r.Get("/v1/subjects/{code}", s.limited(s.getSubject))
	r.Post("/v1/subjects/lookup", s.limited(s.postSubject))
	r.Get("/v1/subjects", s.limited(noListing))
	r.Get("/v1/subjects/", s.limited(noListing))
	r.Get("/v1/records/{record_id}", s.limited(s.getRecord))

	r.Get("/v1/ledger/head", s.getHead)
	r.Get("/v1/ledger/blocks/{height}", s.getBlock)
	r.Get("/v1/ledger/checkpoint", s.getCheckpoint)
	r.Get("/v1/ledger/proofs/inclusion/{tx_id}", s.getInclusion)
	r.Get("/v1/ledger/proofs/consistency", s.getConsistency)
	r.Get("/v1/ledger/trust", s.getTrust)

	// {cert_no} is a number, or a number and ".pdf" for the PDF.
	r.Get("/v1/certificates/{cert_no}", s.getCertificate)
	r.Post("/v1/certificates/verify", s.postVerify)
	// A self-service request names a subject: limited like a look-up.
	r.Post("/v1/certificates/request", s.limited(s.postCertificateRequest))

	s.portalRoutes(r)

	r.Get("/openapi.json", serveOpenAPI)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/readyz", s.ready)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, apierr.New(404, "not_found", "no such endpoint"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, apierr.New(405, "method_not_allowed", "method not allowed"))
	})
	return r
}

// noListing refuses a look-up without a code: subjects are looked up one
// exact code at a time, never listed (DESIGN 9.4).
func noListing(w http.ResponseWriter, _ *http.Request) {
	writeError(w, apierr.New(400, "invalid_code", "a look-up takes one exact subject code; listing subjects is not offered"))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.Ready(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Ready reports whether the replica answers and has a head to serve.
func (s *Server) Ready(ctx context.Context) error {
	if _, err := s.store.Head(ctx); err != nil {
		return fmt.Errorf("replica not ready: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apierr.Error) {
	writeJSON(w, e.Status, apierr.Body{Error: e})
}

// writeUnavailable is for failures of the replica, never of the client's
// input: the same request may simply be retried.
func (s *Server) writeUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("query unavailable", "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, apierr.New(503, "unavailable", "the replica is temporarily unavailable; retry"))
}

// recoverer turns a panic into the contract's error body, so that even a bug
// never answers with an empty connection reset.
func recoverer(s *Server) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					s.log.Error("query panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
					writeError(w, apierr.New(500, "internal", "internal error"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

//go:embed openapi.json
var openAPI []byte

// OpenAPI is the service's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPI }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
