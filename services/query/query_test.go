package query

import (
	"context"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/getkin/kin-openapi/openapi3"
)

func TestLimiterBurstThenRate(t *testing.T) {
	l := newLimiter()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		if ok, _ := l.take("a", 30, 10, t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.take("a", 30, 10, t0)
	if ok {
		t.Fatal("11th request within the same instant admitted")
	}
	// 30 a minute is one token every 2 s.
	if wait != 2*time.Second {
		t.Fatalf("wait %s, want 2s", wait)
	}
	if ok, _ := l.take("b", 30, 10, t0); !ok {
		t.Fatal("another caller shares the first caller's bucket")
	}
	if ok, _ := l.take("a", 30, 10, t0.Add(1900*time.Millisecond)); ok {
		t.Fatal("admitted before a whole token refilled")
	}
	if ok, _ := l.take("a", 30, 10, t0.Add(2*time.Second)); !ok {
		t.Fatal("refused after a token refilled")
	}
	// Idle for an hour: back to a full burst, never more.
	n := 0
	for {
		if ok, _ := l.take("a", 30, 10, t0.Add(time.Hour)); !ok {
			break
		}
		n++
	}
	if n != 10 {
		t.Fatalf("after idling, %d admitted, want the burst of 10", n)
	}
}

func TestLimiterForgetsIdleCallers(t *testing.T) {
	l := newLimiter()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		l.take(string(rune('a'+i%26))+string(rune('0'+i/26)), 30, 10, t0)
	}
	if l.size() != 100 {
		t.Fatalf("%d buckets, want 100", l.size())
	}
	// 2 s refills the one token each spent; after a minute every bucket is
	// full and indistinguishable from a new one.
	l.take("z", 30, 10, t0.Add(2*sweepEvery))
	if l.size() != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", l.size())
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 90 * time.Second: 90} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestQuotaDayIsChinaStandardTime(t *testing.T) {
	// 2026-01-01T15:59:59Z is 23:59:59 in Beijing: one second to midnight.
	now := time.Date(2026, 1, 1, 15, 59, 59, 0, time.UTC)
	if d := untilTomorrow(now); d != time.Second {
		t.Fatalf("untilTomorrow = %s, want 1s", d)
	}
	if today(now) != "2026-01-01" || today(now.Add(time.Second)) != "2026-01-02" {
		t.Fatalf("days: %s, %s", today(now), today(now.Add(time.Second)))
	}
}

func TestParseCount(t *testing.T) {
	good := map[string]uint64{"0": 0, "1": 1, "42": 42, "9007199254740991": 1<<53 - 1}
	for s, want := range good {
		if n, err := parseCount(s, "x"); err != nil || n != want {
			t.Errorf("parseCount(%q) = %d, %v", s, n, err)
		}
	}
	for _, s := range []string{"", "-1", "+1", "01", "1.0", "1e3", " 1", "0x10", "9007199254740992", "99999999999999999999", "١"} {
		if _, err := parseCount(s, "x"); err == nil || err.Status != 400 || err.Code != "malformed" {
			t.Errorf("parseCount(%q) accepted or wrong error: %v", s, err)
		}
	}
}

// TestOpenAPIDocument loads the served document as OpenAPI 3.1 and checks
// it is valid and describes every route the handler serves.
func TestOpenAPIDocument(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, p := range []string{"/v1/subjects/{code}", "/v1/subjects/lookup", "/v1/records/{record_id}",
		"/v1/ledger/head", "/v1/ledger/blocks/{height}", "/v1/ledger/checkpoint",
		"/v1/ledger/proofs/inclusion/{tx_id}", "/v1/ledger/proofs/consistency", "/v1/ledger/trust",
		"/v1/certificates/{cert_no}", "/v1/certificates/verify", "/v1/certificates/request",
		"/openapi.json", "/healthz", "/readyz"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("path %s not described", p)
		}
	}
}

// TestLegacyUSCCFromGenesis checks that a pilot USCC the genesis
// allow-lists is a valid code for look-ups, and that it is not without it.
func TestLegacyUSCCFromGenesis(t *testing.T) {
	const valid = "91350200776049653A"
	if err := ids.CheckUSCC(valid); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	legacy := valid[:17] + "B" // same code, wrong check character
	plain := New(&pgstore.Store{Genesis: &block.Genesis{}}, Config{})
	if _, err := plain.classify(legacy); err == nil {
		t.Fatal("a code failing its check character is valid without an allow-list")
	}
	listed := New(&pgstore.Store{Genesis: &block.Genesis{LegacyUSCC: []string{legacy}}}, Config{})
	kinds, err := listed.classify(legacy)
	if err != nil || len(kinds) != 1 || kinds[0] != ids.Organization {
		t.Fatalf("allow-listed code: %v, %v", kinds, err)
	}
	if _, err := listed.classify(valid[:16] + "XB"); err == nil {
		t.Fatal("the allow-list let another code through")
	}
}
