package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/creditchain/creditchain/services/query"
)

// BenchmarkSubjectLookup measures subject look-ups over HTTP (loopback,
// keep-alive) against the credit center's replica of a network holding
// QUERY_BENCH_RECORDS organization records (default 2,000) and a tenth as
// many person records. It runs its own query server over that replica with
// the limits lifted, so that it measures the look-up, not the limiter.
//
//	go test -run '^$' -bench SubjectLookup ./e2e
func BenchmarkSubjectLookup(b *testing.B) {
	records := 2000
	if v, err := strconv.Atoi(os.Getenv("QUERY_BENCH_RECORDS")); err == nil && v > 0 {
		records = v
	}
	env := harness.Shared(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := devnet.Start(ctx, devnet.Options{Env: env, OwnNATS: true, Dir: b.TempDir(), IntakePort: -1, PortalPort: -1,
		BlockInterval: 50 * time.Millisecond, IdleInterval: 500 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(n.Close)

	courtS, marketS := newSigner(n, court), newSigner(n, market)
	start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	var ids []string
	for i := range records {
		env, id := courtS.sign(b, "record.create", recordCreate(orgCode(b, 10_000+i), "court-defaulter", "court-defaulter", start, "P2Y"))
		if r := submit(b, n, env, nil); r.Status != 202 {
			b.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		ids = append(ids, id)
	}
	people := max(1, records/10)
	for i := range people {
		p := &txn.Personal{Name: "张三", IDNumber: personID, Salt: fmt.Sprintf("%064x", i)}
		c, err := txn.Commitment(courtS.suite, p)
		if err != nil {
			b.Fatal(err)
		}
		env, id := marketS.sign(b, "record.create", personPayload(c, "general-dishonesty", start, "P1Y", fmt.Sprintf("厦市监罚〔2026〕%d号", i)))
		if r := submit(b, n, env, p); r.Status != 202 {
			b.Fatalf("submit person: %d %s", r.Status, r.Raw)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if r := waitStatus(b, n, id, time.Minute); r.Body["status"] != "committed" {
			b.Fatalf("%s: %s", id, r.Raw)
		}
	}
	waitConverged(b, n, time.Minute)

	dbURL, err := n.ReplicaURL(ctx, n.Institutions[center].Member.ID)
	if err != nil {
		b.Fatal(err)
	}
	unlimited := query.Limits{AnonPerMinute: 1 << 30, AnonBurst: 1 << 30, KeyPerMinute: 1, KeyPerDay: 1}
	srv, err := query.Open(ctx, query.Config{DatabaseURL: dbURL, Genesis: n.Genesis, Limits: unlimited})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	client := hs.Client()

	lookup := func(b *testing.B, req func(i int) *http.Request, wantRecords int) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			resp, err := client.Do(req(i))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
			if wantRecords > 1 && bytes.Count(body, []byte(`"record_id"`)) != wantRecords {
				b.Fatalf("want %d records: %s", wantRecords, body)
			}
		}
	}
	b.Run("organization", func(b *testing.B) {
		lookup(b, func(i int) *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/subjects/"+orgCode(b, 10_000+i%records), nil)
			return r
		}, 1)
	})
	b.Run("unknown", func(b *testing.B) {
		lookup(b, func(i int) *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/subjects/"+orgCode(b, 900_000+i%1000), nil)
			return r
		}, 0)
	})
	// A person with people records: one sidecar query, one records query
	// over people commitments, one access-log insert.
	b.Run("person", func(b *testing.B) {
		body := []byte(`{"code":"` + personID + `"}`)
		lookup(b, func(int) *http.Request {
			r, _ := http.NewRequest("POST", hs.URL+"/v1/subjects/lookup", bytes.NewReader(body))
			return r
		}, people)
	})
	b.Run("record", func(b *testing.B) {
		lookup(b, func(i int) *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/records/"+ids[i%records], nil)
			return r
		}, 1)
	})
}
