package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5"
)

// Scale of BenchmarkLookupAtScale: QUERY_SCALE_RECORDS records in all
// (default 100,000, so that `make bench` stays quick; the figure in
// docs/performance.md is for 1,000,000), of which scaleOrgs organizations
// and scalePersons persons with valid codes are looked up.
const (
	scaleOrgs    = 10_000
	scalePersons = 2_000
)

// BenchmarkLookupAtScale measures subject look-ups over HTTP (loopback,
// keep-alive) against the real query service on a replica holding
// QUERY_SCALE_RECORDS records. The records are written straight into a
// benchmark-only database with generate_series, not through consensus:
// look-ups read only the records and personal tables, whose indexes are
// what a million records stress. Besides ns/op it reports p50 and p99
// latency of the look-ups made:
//
//	QUERY_SCALE_RECORDS=1000000 go test -run '^$' -bench LookupAtScale -benchtime 5000x ./services/query
func BenchmarkLookupAtScale(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("QUERY_SCALE_RECORDS")); err == nil && v > 0 {
		total = v
	}
	if total < 2*(scaleOrgs+scalePersons) {
		b.Fatalf("QUERY_SCALE_RECORDS=%d: at least %d are needed", total, 2*(scaleOrgs+scalePersons))
	}
	env := harness.Shared(b)
	ctx := context.Background()
	url := harness.NewTestDatabase(b, env.PG, "")
	if err := pgstore.Migrate(ctx, url); err != nil {
		b.Fatal(err)
	}
	orgs, persons := scaleSubjects(b)
	start := time.Now()
	fillReplica(b, url, total, orgs, persons)
	b.Logf("replica of %d records filled in %s", total, time.Since(start).Round(time.Second))

	g := &block.Genesis{ChainID: "scale-bench", CryptoSuite: "ed25519", Quorum: "two-thirds"}
	unlimited := Limits{AnonPerMinute: 1 << 30, AnonBurst: 1 << 30, KeyPerMinute: 1, KeyPerDay: 1}
	srv, err := Open(ctx, Config{DatabaseURL: url, Genesis: g, Limits: unlimited})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	client := hs.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 16
	var unknown []string
	for i := range 1000 {
		unknown = append(unknown, scaleUSCC(b, 900_000+i))
	}

	lookup := func(rng *rand.Rand, kind string) (time.Duration, error) {
		var req *http.Request
		want := 1
		switch kind {
		case "organization":
			req, _ = http.NewRequest("GET", hs.URL+"/v1/subjects/"+orgs[rng.IntN(len(orgs))], nil)
		case "person":
			body := `{"code":"` + persons[rng.IntN(len(persons))] + `"}`
			req, _ = http.NewRequest("POST", hs.URL+"/v1/subjects/lookup", bytes.NewReader([]byte(body)))
		case "unknown":
			req, _ = http.NewRequest("GET", hs.URL+"/v1/subjects/"+unknown[rng.IntN(len(unknown))], nil)
			want = 0
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(t0)
		if resp.StatusCode != 200 || bytes.Count(raw, []byte(`"record_id"`)) != want {
			return 0, fmt.Errorf("%s look-up: %d %s, want %d records", kind, resp.StatusCode, raw, want)
		}
		return took, nil
	}
	for _, kind := range []string{"organization", "person", "unknown"} {
		b.Run(kind, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			var lat []time.Duration
			for b.Loop() {
				d, err := lookup(rng, kind)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, d)
			}
			reportPercentiles(b, lat)
		})
	}
	// Four clients at once: what the 2-core machine sustains, and the
	// latency under that load.
	b.Run("organization-4-clients", func(b *testing.B) {
		var mu sync.Mutex
		var lat []time.Duration
		b.SetParallelism(2) // 2 × GOMAXPROCS (2) goroutines
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
			var mine []time.Duration
			for pb.Next() {
				d, err := lookup(rng, "organization")
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) < 100 {
		return // too few for a p99: run with -benchtime 5000x
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// scaleUSCC is the i-th valid USCC of the benchmark (region 350200,
// organization codes "B" and seven digits).
func scaleUSCC(t testing.TB, i int) string {
	org := fmt.Sprintf("B%07d", i)
	for _, d := range "0123456789X" {
		first17 := "91350200" + org + string(d)
		c, err := ids.USCCCheckChar(first17)
		if err != nil {
			continue
		}
		if code := first17 + string(c); ids.CheckUSCC(code) == nil {
			return code
		}
	}
	t.Fatalf("no valid USCC for organization code %s", org)
	return ""
}

// scaleCitizenID is the i-th valid citizen ID of the benchmark.
func scaleCitizenID(t testing.TB, i int) string {
	born := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900)
	first17 := "350203" + born.Format("20060102") + fmt.Sprintf("%03d", 100+i%900)
	c, err := ids.CitizenIDCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

func scaleSubjects(t testing.TB) (orgs, persons []string) {
	for i := range scaleOrgs {
		orgs = append(orgs, scaleUSCC(t, i))
	}
	for i := range scalePersons {
		persons = append(persons, scaleCitizenID(t, i))
	}
	return orgs, persons
}

// fillReplica writes total records: every looked-up subject has one active
// and one exited record, the rest are filler subjects (a tenth of them
// persons, with sidecars) that only make the tables and indexes big.
func fillReplica(t testing.TB, url string, total int, orgs, persons []string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	authority := scaleUSCC(t, 999_999)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	doc := func(id string, sub txn.Subject, status string) []byte {
		r := ledger.Record{ID: id, Subject: sub, Category: "court-defaulter", Authority: authority,
			Measures: []string{"high_consumption_ban", "travel_ban"},
			Basis:    txn.Basis{DocumentNo: "(2026)闽02执" + id[:6] + "号", DecidedAt: txn.FormatTime(start), Law: "最高人民法院关于公布失信被执行人名单信息的若干规定"},
			Start:    start, Term: "P2Y", Policy: ledger.PolicyRef{ID: "court-defaulter", Version: 1}, Status: status,
			History: []ledger.HistoryEntry{{TxID: id, Type: txn.TypeRecordCreate, Height: 7, Time: start}}}
		raw, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var rows [][]any
	var sidecars [][]any
	add := func(code, kind string, n int) {
		for j, status := range []string{ledger.StatusActive, ledger.StatusExited} {
			id := fmt.Sprintf("%064x", 1<<40+n*2+j)
			sub := txn.Subject{Kind: kind, USCC: code, Name: "厦门某某有限公司"}
			key := code
			if kind == txn.SubjectPerson {
				// One commitment per record, each with its own salt.
				sub = txn.Subject{Kind: kind, Commitment: fmt.Sprintf("%064x", 1<<41+n*2+j)}
				sidecars = append(sidecars, []any{sub.Commitment, "张三", code, fmt.Sprintf("%064x", n*2+j)})
				key = sub.Commitment
			}
			rows = append(rows, []any{id, key, kind, "court-defaulter", authority, "(2026)闽02执" + id[:6] + "号", status, doc(id, sub, status), int64(7)})
		}
	}
	for i, c := range orgs {
		add(c, txn.SubjectOrganization, i)
	}
	for i, c := range persons {
		add(c, txn.SubjectPerson, len(orgs)+i)
	}
	cols := []string{"record_id", "subject_code", "subject_kind", "category", "authority", "document_no", "status", "doc", "updated_height"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"records"}, cols, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"personal"}, []string{"commitment", "name", "id_number", "salt"}, pgx.CopyFromRows(sidecars)); err != nil {
		t.Fatal(err)
	}
	// The filler: one statement, generated in the server. Codes never
	// collide with the looked-up ones ("F..." is no valid USCC), a tenth
	// are persons with a sidecar each, most are exited as on a real
	// replica after some years.
	filler := doc(fmt.Sprintf("%064x", 0), txn.Subject{Kind: txn.SubjectOrganization, USCC: "F", Name: "厦门某某有限公司"}, ledger.StatusExited)
	n := total - len(rows)
	if _, err := conn.Exec(ctx, `INSERT INTO records (record_id, subject_code, subject_kind, category, authority, document_no, status, doc, updated_height)
		SELECT lpad(to_hex(i), 64, '0'),
			CASE WHEN i % 10 = 0 THEN lpad(to_hex(i), 64, 'c') ELSE 'F' || lpad(i::text, 17, '0') END,
			CASE WHEN i % 10 = 0 THEN 'person' ELSE 'organization' END,
			'court-defaulter', $2, '(2026)闽02执' || i || '号',
			CASE WHEN i % 4 = 0 THEN 'active' ELSE 'exited' END,
			$3::jsonb, i / 100
		FROM generate_series(1, $1::bigint) i`, n, authority, filler); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO personal (commitment, name, id_number, salt)
		SELECT lpad(to_hex(i), 64, 'c'), '李四', 'P' || lpad(i::text, 17, '0'), lpad(to_hex(i), 64, '0')
		FROM generate_series(10, $1::bigint, 10) i`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE records; ANALYZE personal`); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&count); err != nil || count != total {
		t.Fatalf("%d records written, want %d (%v)", count, total, err)
	}
}
