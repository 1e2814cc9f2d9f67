package importer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressCountsDecidedRows checks that the line measures what ends an
// import — rows decided, at the recent rate — and not rows sent, which run
// ahead of consensus.
func TestProgressCountsDecidedRows(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false)
	p.start = time.Now().Add(-100 * time.Second)
	// 20 s ago: 3,000 sent and 800 decided in this run; 200 rows were
	// committed by an earlier run.
	p.samples = []sample{{at: time.Now().Add(-20 * time.Second), sent: 3000, decided: 800}}
	c := Counts{Valid: 10000, ToSend: 9800, Sent: 7000, Committed: 5200, Before: 200}
	p.show(c, false)
	line := out.String()
	// decided in this run went from 800 to 5000 in ~20 s: ~210 rows/s, and
	// the 4,800 rows left take ~23 s.
	for _, want := range []string{"5200/10000 rows decided (52%) at 210 rows/s", "ETA 23s", "sent 7000/9800 at 200 rows/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
}

// TestProgressFinalRates checks the last line of an interrupted run: the
// sending rate is over the whole run when sending never finished.
func TestProgressFinalRates(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false)
	p.start = time.Now().Add(-10 * time.Second)
	p.show(Counts{Valid: 4000, ToSend: 4000, Sent: 1000, Committed: 500}, true)
	if line := out.String(); !strings.Contains(line, "at 50 rows/s") || !strings.Contains(line, "sent 1000/4000 at 100 rows/s") {
		t.Errorf("final line of an interrupted run: %q", line)
	}
}
