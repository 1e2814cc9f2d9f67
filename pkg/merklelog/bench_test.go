package merklelog

import (
	"testing"
)

// BenchmarkAppend measures appending batches of 1000 leaves (a full block)
// to a growing log; ns/leaf is the figure to compare.
func BenchmarkAppend(b *testing.B) {
	for name, h := range hashers(b) {
		b.Run(name, func(b *testing.B) {
			batch := make([][]byte, 1000)
			for i := range batch {
				// About the size of a signed envelope.
				batch[i] = make([]byte, 600)
				batch[i][0] = byte(i)
			}
			l := NewLog(h)
			b.ResetTimer()
			for b.Loop() {
				if _, err := l.Append(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/leaf")
		})
	}
}
