package signer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/cert/certtest"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// fakeIntake answers POST /v1/transactions with the next of replies and
// GET /v1/transactions/{id} with statuses in turn, recording what it got.
type fakeIntake struct {
	mu       sync.Mutex
	replies  []int
	statuses []string
	posted   []*txn.Envelope
}

func (f *fakeIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		sub, aerr := txn.DecodeSubmission(body)
		if aerr != nil {
			http.Error(w, aerr.Error(), http.StatusBadRequest)
			return
		}
		f.posted = append(f.posted, sub.Tx)
		code := f.replies[0]
		f.replies = f.replies[1:]
		w.WriteHeader(code)
		switch code {
		case http.StatusConflict:
			_, _ = io.WriteString(w, `{"error":{"code":"duplicate","message":"seen"},"tx":{"status":"pending"}}`)
		case http.StatusForbidden:
			_, _ = io.WriteString(w, `{"error":{"code":"forbidden_role","message":"not an issuer"}}`)
		default:
			_, _ = io.WriteString(w, `{"status":"pending"}`)
		}
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/transactions/")
	if len(f.statuses) == 0 {
		http.Error(w, `{"error":{"code":"not_found","message":"unknown"}}`, http.StatusNotFound)
		return
	}
	st := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	out := map[string]any{"tx_id": id, "status": st}
	if st == "rejected" {
		out["reason"] = "unknown_certificate"
	}
	_ = json.NewEncoder(w).Encode(out)
}

func TestIntakeClient(t *testing.T) {
	f := certtest.New(t, suite.Ed25519)
	k := f.Keys[certtest.CenterID]
	fake := &fakeIntake{replies: []int{202, 409, 403}, statuses: []string{"pending", "pending", "committed"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	in := &Intake{URL: srv.URL + "/", Chain: certtest.ChainID, Suite: f.S, Key: suite.NewKeyFile(certtest.CenterID, k),
		Clock: func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) }}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	id, err := Revoke(ctx, in, "CC-2026-0123456789ABCDEF", "签发错误")
	if err != nil {
		t.Fatal(err)
	}
	env := fake.posted[0]
	if want, _ := env.ID(f.S); id != want || env.Type != txn.TypeCertificateRevoke || env.CreatedAt != "2026-11-25T08:00:00Z" {
		t.Fatalf("posted %+v, id %s", env, id)
	}
	if err := env.VerifySignature(f.S, k.Public); err != nil {
		t.Fatal(err)
	}
	st, err := in.Wait(ctx, id)
	if err != nil || st.Status != "committed" || st.TxID != id {
		t.Fatalf("wait: %+v %v", st, err)
	}
	// A duplicate is the same transaction seen before: accepted.
	if _, err := in.Submit(ctx, txn.TypeCertificateRevoke, txn.CertificateRevoke{CertNo: "CC-2026-0123456789ABCDEF", Reason: "x"}); err != nil {
		t.Fatalf("409 duplicate: %v", err)
	}
	// A refusal carries intake's code.
	_, err = in.Submit(ctx, txn.TypeCertificateRevoke, txn.CertificateRevoke{CertNo: "CC-2026-0123456789ABCDEF", Reason: "x"})
	var ie *IntakeError
	if !errors.As(err, &ie) || ie.Status != 403 || ie.Code != "forbidden_role" {
		t.Fatalf("403: %v", err)
	}
	// Refused before sending: a malformed number, no reason.
	for _, c := range [][2]string{{"CC-2026-0123", "x"}, {"CC-2026-0123456789ABCDEF", " "}} {
		if _, err := Revoke(ctx, in, c[0], c[1]); err == nil {
			t.Errorf("Revoke(%q, %q) accepted", c[0], c[1])
		}
	}
	if len(fake.posted) != 3 {
		t.Fatalf("%d posts, want 3", len(fake.posted))
	}
	// Waiting ends with the context when nothing is decided.
	fake.mu.Lock()
	fake.statuses = []string{"pending"}
	fake.mu.Unlock()
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	if _, err := in.Wait(short, id); err == nil || !strings.Contains(err.Error(), "still pending") {
		t.Fatalf("wait on pending: %v", err)
	}
}
