package exitcontract

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/txn"
)

// The figures in docs/policies.md ("Automatic exits") come from these
// benchmarks: go test -run '^$' -bench . -benchtime 1x (Million) and the
// default benchtime (per record).

const million = 1_000_000

// BenchmarkScheduleMillion builds a schedule of 1,000,000 active records
// and reports its live heap, the cost of scheduling, and of one block that
// finds 1% of them due and schedules them again.
func BenchmarkScheduleMillion(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		s := NewSchedule(million)
		for i := range million {
			s.Set(key(i), epoch.Add(time.Duration(i*7919%million)*time.Minute), ActionExit)
		}
		build := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/million, "B/record")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
		b.ReportMetric(float64(build.Nanoseconds())/million, "ns/Set")

		start = time.Now()
		due := s.PopDue(epoch.Add(million / 100 * time.Minute))
		for _, e := range due {
			s.Set(e.Key, e.DueTime().Add(365*24*time.Hour), e.Action)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/block-1%due")
		b.ReportMetric(float64(len(due)), "due")
		runtime.KeepAlive(s)
	}
}

// typicalDoc is a record as the replica stores it (records.doc): an
// organization, two measures, two attestations, three history entries.
func typicalDoc(i int) []byte {
	start := epoch.Add(time.Duration(i) * time.Minute)
	r := ledger.Record{
		ID:       fmt.Sprintf("%064x", i),
		Subject:  txn.Subject{Kind: "organization", USCC: "91350200776049653A", Name: "厦门某某有限公司"},
		Category: policy.CourtDefaulter, Authority: "11350200D00000021P",
		Measures: []string{"high_consumption_ban", "travel_ban"},
		Basis:    txn.Basis{DocumentNo: "(2026)闽02执123号", DecidedAt: txn.FormatTime(start), Law: "最高人民法院关于公布失信被执行人名单信息的若干规定"},
		Start:    start, Term: "P2Y", Policy: ledger.PolicyRef{ID: policy.CourtDefaulter, Version: 1}, Status: ledger.StatusActive,
		Attestations: []ledger.Attestation{
			{Kind: "objection_filed", At: start.Add(time.Hour), TxID: fmt.Sprintf("%064x", i+1)},
			{Kind: policy.KindEnforcementSuspended, At: start.Add(2 * time.Hour), TxID: fmt.Sprintf("%064x", i+2)},
		},
		Repair: ledger.Repair{Status: policy.RepairNone},
	}
	for h := range 3 {
		r.History = append(r.History, ledger.HistoryEntry{TxID: fmt.Sprintf("%064x", i+h), Type: "record.attest", Height: uint64(100 + h), Time: start.Add(time.Duration(h) * time.Hour)})
	}
	raw, _ := json.Marshal(&r)
	return raw
}

// BenchmarkLoadRecord is the CPU the initial load spends per active record
// once its row has arrived: decode the stored document, evaluate the bound
// policy, schedule it. Times 1,000,000 it estimates the one evaluation
// pass at start-up; each later block costs it per touched or due record.
func BenchmarkLoadRecord(b *testing.B) {
	reads := 0
	s := &Service{pols: newPolicyCache(genesisPolicies(&reads)), pending: map[RecordKey]*pending{}}
	sched := NewSchedule(0)
	doc := typicalDoc(1)
	at := epoch.Add(180 * 24 * time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var r ledger.Record
		if err := json.Unmarshal(doc, &r); err != nil {
			b.Fatal(err)
		}
		if err := s.plan(ctx, sched, &r, at); err != nil {
			b.Fatal(err)
		}
	}
	if sched.Len() != 1 || reads != 1 {
		b.Fatalf("schedule %d entries after %d policy reads", sched.Len(), reads)
	}
	b.ReportMetric(float64(len(doc)), "B/doc")
}
