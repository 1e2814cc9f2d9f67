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
	// A tenth as many persons, one record each, and one person with
	// heavy records (each record has its own salt, so its own commitment).
	people := max(1, records/10)
	const heavy = 20
	for i := range people + heavy {
		id := citizenID(b, i)
		if i >= people {
			id = personID
		}
		p := &txn.Personal{Name: "张三", IDNumber: id, Salt: fmt.Sprintf("%064x", i)}
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
			if bytes.Count(body, []byte(`"record_id"`)) != wantRecords {
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
	// A person: one sidecar query, one records query over the person's
	// commitments, one access-log insert.
	b.Run("person", func(b *testing.B) {
		lookup(b, func(i int) *http.Request {
			body := []byte(`{"code":"` + citizenID(b, i%people) + `"}`)
			r, _ := http.NewRequest("POST", hs.URL+"/v1/subjects/lookup", bytes.NewReader(body))
			return r
		}, 1)
	})
	b.Run("person-20-records", func(b *testing.B) {
		body := []byte(`{"code":"` + personID + `"}`)
		lookup(b, func(int) *http.Request {
			r, _ := http.NewRequest("POST", hs.URL+"/v1/subjects/lookup", bytes.NewReader(body))
			return r
		}, heavy)
	})
	b.Run("record", func(b *testing.B) {
		lookup(b, func(i int) *http.Request {
			r, _ := http.NewRequest("GET", hs.URL+"/v1/records/"+ids[i%records], nil)
			return r
		}, 1)
	})
}

// citizenID is the i-th valid citizen ID of a made-up person born in
// Xiamen (350203): a thousand per birth date from 1980-01-01 on, with the
// GB 11643 check character.
func citizenID(t testing.TB, i int) string {
	t.Helper()
	if i < 0 {
		t.Fatalf("citizenID(%d)", i)
	}
	born := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	body := fmt.Sprintf("350203%s%03d", born.Format("20060102"), i%1000)
	sum := 0
	for j, c := range body {
		sum += int(c-'0') * ((1 << (17 - j)) % 11)
	}
	return body + string("10X98765432"[sum%11])
}
