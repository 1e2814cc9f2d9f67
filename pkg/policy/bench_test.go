package policy

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func typicalRecord(i int) *Record {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return &Record{
		ID:        fmt.Sprintf("%064x", i),
		Category:  CourtDefaulter,
		Authority: "91350200776049653A",
		Start:     start,
		Term:      term("P2Y"),
		Measures:  []string{"high_consumption_ban", "travel_ban"},
		Status:    "active",
		Attestations: []Attestation{
			attest("objection_filed", start.Add(time.Hour)),
			attest(KindEnforcementSuspended, start.Add(2*time.Hour)),
		},
	}
}

func BenchmarkEvaluate(b *testing.B) {
	now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range Builtins() {
		c := mustCompile(b, p)
		r := typicalRecord(1)
		b.Run(p.ID, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Evaluate(r, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecordFootprint measures the heap a scheduler holds per record
// when it keeps the policy's view of each record in memory.
func BenchmarkRecordFootprint(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		records := make([]*Record, n)
		for i := range records {
			records[i] = typicalRecord(i)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/record")
		runtime.KeepAlive(records)
	}
}
