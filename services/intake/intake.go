// Package intake is the intake service (DESIGN 3, 9.4): the HTTP API that
// takes signed transactions, makes every check that needs no ledger state,
// and publishes them to the TXS stream. A 202 is sent only after JetStream's
// PubAck: from then on the transaction ends committed or rejected.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/telemetry"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var tracer = telemetry.Tracer("intake")

// MaxBody is the largest request body accepted (DESIGN 9.6).
const MaxBody = 256 << 10

// ClockWindow is how far created_at may be from intake's clock.
const ClockWindow = 5 * time.Minute

// Server is the intake HTTP API.
type Server struct {
	Chain    string
	Suite    suite.Suite
	Members  *registry.Registry
	JS       jetstream.JetStream
	Receipts jetstream.KeyValue
	Sidecars jetstream.KeyValue
	Clock    func() time.Time
	Logger   *slog.Logger
}

// Connect builds a Server from NATS and the membership registry.
func Connect(ctx context.Context, chain string, s suite.Suite, nc *nats.Conn, members *registry.Registry) (*Server, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if err := streams.Ensure(ctx, js, streams.Options{}); err != nil {
		return nil, err
	}
	rc, err := js.KeyValue(ctx, streams.ReceiptsBucket)
	if err != nil {
		return nil, err
	}
	sc, err := js.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		return nil, err
	}
	return &Server{Chain: chain, Suite: s, Members: members, JS: js, Receipts: rc, Sidecars: sc,
		Clock: time.Now, Logger: slog.Default()}, nil
}

// Handler is the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Post("/v1/transactions", counted("submit", s.submit))
	r.Get("/v1/transactions/{tx_id}", counted("status", s.status))
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

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.Members.Current() == nil {
		http.Error(w, "membership not loaded", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TxStatus is the answer of GET /v1/transactions/{tx_id}.
type TxStatus struct {
	TxID   string `json:"tx_id"`
	Status string `json:"status"`
	Height uint64 `json:"height,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	// One span per POST, continuing the client's trace if it sent one; its
	// context travels with the transaction in the TXS message headers.
	ctx, span := tracer.Start(propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)),
		"intake.submit", trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		writeError(w, apierr.Malformed("reading body: %v", err))
		return
	}
	if len(body) > MaxBody {
		writeError(w, apierr.New(413, "too_large", "body exceeds %d bytes", MaxBody))
		return
	}
	sub, aerr := txn.DecodeSubmission(body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	id, aerr := s.check(sub)
	if aerr != nil {
		span.SetAttributes(attribute.String("creditchain.refusal", aerr.Code))
		writeError(w, aerr)
		return
	}
	span.SetAttributes(attribute.String("creditchain.tx_id", id), attribute.String("creditchain.tx_type", sub.Tx.Type))
	if st, ok := s.lookup(ctx, id); ok {
		writeDuplicate(w, st)
		return
	}
	if sub.Personal != nil {
		data, _ := json.Marshal(sub.Personal)
		c, _ := txn.Commitment(s.Suite, sub.Personal)
		if _, err := s.Sidecars.Put(ctx, c, data); err != nil {
			writeUnavailable(w, fmt.Errorf("store sidecar: %w", err))
			return
		}
	}
	canon, err := sub.Tx.Canonical()
	if err != nil {
		writeError(w, apierr.Malformed("%v", err))
		return
	}
	msg := nats.NewMsg(streams.TxsSubject)
	msg.Data = canon
	telemetry.Inject(ctx, msg.Header)
	ack, err := s.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		writeUnavailable(w, fmt.Errorf("publish: %w", err))
		return
	}
	if ack.Duplicate {
		st, ok := s.lookup(ctx, id)
		if !ok {
			st = TxStatus{TxID: id, Status: "pending"}
		}
		writeDuplicate(w, st)
		return
	}
	pending, _ := json.Marshal(map[string]string{"status": "pending"})
	// Create, not Put: consensus may already have written the final receipt.
	// Not the request context: a client that hangs up after the PubAck
	// must still leave its pending receipt.
	_, _ = s.Receipts.Create(context.WithoutCancel(ctx), id, pending)
	writeJSON(w, http.StatusAccepted, TxStatus{TxID: id, Status: "pending"})
}

// check makes every stateless check of DESIGN 9.6 in the contract's order
// and returns the tx id.
func (s *Server) check(sub *txn.Submission) (string, *apierr.Error) {
	env := sub.Tx
	if env.Chain != s.Chain {
		return "", apierr.New(400, "wrong_chain", "chain %q is not this network's chain %q", env.Chain, s.Chain)
	}
	now := s.Clock()
	created, err := txn.ParseTime(env.CreatedAt)
	if err != nil {
		return "", apierr.Malformed("created_at: %v", err)
	}
	if d := created.Sub(now); d > ClockWindow || d < -ClockWindow {
		return "", apierr.New(400, "stale_timestamp", "created_at %s is %s from intake's clock; the window is ±5 min", env.CreatedAt, d.Round(time.Second))
	}
	payload, err := txn.DecodePayload(env.Type, env.Payload)
	if err != nil {
		if ae, ok := apierr.As(err); ok {
			return "", ae
		}
		return "", apierr.Malformed("%v", err)
	}
	if ae := txn.ValidateWith(s.Suite, env, payload, sub.Personal, now); ae != nil {
		return "", ae
	}
	m := s.Members.Current()
	if m == nil {
		return "", apierr.New(503, "unavailable", "membership not loaded yet")
	}
	category := ""
	if rc, ok := payload.(*txn.RecordCreate); ok {
		category = rc.Category
	}
	if env.Sig == nil {
		return "", apierr.Malformed("missing sig")
	}
	// Key and signature before role: a 403 must not tell an impostor about
	// roles and categories.
	member, ok := m.Member(env.Submitter)
	if !ok || !member.Active() {
		return "", apierr.New(401, "unknown_key", "submitter %s is not an active member", env.Submitter)
	}
	key, ok := member.Key(env.Sig.KeyID)
	if !ok {
		return "", apierr.New(401, "unknown_key", "key %s is not a key of %s", env.Sig.KeyID, env.Submitter)
	}
	if err := env.VerifySignature(s.Suite, key.Public); err != nil {
		return "", apierr.New(401, "bad_signature", "signature does not verify under key %s", key.KeyID)
	}
	if _, _, ae := ledger.Authorize(m, env.Submitter, env.Sig.KeyID, env.Type, category); ae != nil {
		return "", ae
	}
	id, err := env.ID(s.Suite)
	if err != nil {
		return "", apierr.Malformed("%v", err)
	}
	return id, nil
}

var txIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "tx_id")
	if !txIDPattern.MatchString(id) {
		writeError(w, apierr.Malformed("tx id must be 64 lowercase hex characters"))
		return
	}
	st, ok := s.lookup(r.Context(), id)
	if !ok {
		writeError(w, apierr.New(404, "not_found", "no transaction %s", id))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// lookup reads a transaction's receipt.
func (s *Server) lookup(ctx context.Context, id string) (TxStatus, bool) {
	e, err := s.Receipts.Get(ctx, id)
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.Logger.Warn("read receipt", "tx", id, "err", err)
		}
		return TxStatus{}, false
	}
	var st TxStatus
	if json.Unmarshal(e.Value(), &st) != nil {
		return TxStatus{}, false
	}
	st.TxID = id
	if st.Status != "committed" {
		st.Height = 0
	}
	if st.Status != "rejected" {
		st.Reason = ""
	}
	return st, true
}
