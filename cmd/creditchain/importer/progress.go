package importer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress shows how far an import is: a bar redrawn in place on a
// terminal, plain lines at intervals otherwise (logs, CI). The bar counts
// rows decided (committed, rejected or refused), not rows sent: sending
// runs ahead of consensus by up to --max-pending rows, and an import is
// done when its rows are on the ledger. Both rates are shown, measured
// over the last rateSpan so that the ETA follows the network's current
// pace rather than an average that includes the start-up.
type progress struct {
	w         io.Writer
	tty       bool
	start     time.Time
	lastPlain time.Time
	drawn     bool
	samples   []sample
	// sentAll is when the last row was answered: the final line's sending
	// rate stops there, while the wait for commits goes on.
	sentAll time.Time
}

// sample is one observation of the counts, for the recent rates.
type sample struct {
	at            time.Time
	sent, decided int
}

const (
	ttyEvery   = 200 * time.Millisecond
	plainEvery = 5 * time.Second
	barWidth   = 24
	rateSpan   = 30 * time.Second
)

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, start: time.Now()}
}

// rates returns rows sent and rows decided per second over the last
// rateSpan, or over the whole run for the final line.
func (p *progress) rates(now time.Time, c Counts, final bool) (sent, decided float64) {
	cur := sample{now, c.Sent + c.Refused, c.Decided() - c.Before}
	if p.sentAll.IsZero() && cur.sent >= c.ToSend {
		p.sentAll = now
	}
	p.samples = append(p.samples, cur)
	from := sample{at: p.start}
	if final {
		secs := now.Sub(p.start).Seconds()
		if secs <= 0 {
			return 0, 0
		}
		sending := secs // interrupted: sending went on until now
		if !p.sentAll.IsZero() {
			sending = max(p.sentAll.Sub(p.start).Seconds(), 1e-3)
		}
		return float64(cur.sent) / sending, float64(cur.decided) / secs
	}
	{
		i := 0
		for i < len(p.samples)-1 && now.Sub(p.samples[i].at) > rateSpan {
			i++
		}
		p.samples = p.samples[i:]
		if now.Sub(p.start) > rateSpan {
			from = p.samples[0]
		}
	}
	secs := now.Sub(from.at).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return float64(cur.sent-from.sent) / secs, float64(cur.decided-from.decided) / secs
}

// show draws c; final forces a last line.
func (p *progress) show(c Counts, final bool) {
	now := time.Now()
	sentRate, rate := p.rates(now, c, final)
	if !p.tty && !final && now.Sub(p.lastPlain) < plainEvery {
		return
	}
	p.lastPlain = now
	decided := c.Decided()
	eta := "?"
	if left := c.Valid - decided; left <= 0 {
		eta = "0s"
	} else if rate > 0 {
		eta = time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if c.Valid > 0 {
		pct = 100 * float64(decided) / float64(c.Valid)
	}
	if p.tty {
		fill := min(barWidth, int(pct/100*barWidth))
		bar := strings.Repeat("█", fill) + strings.Repeat("░", barWidth-fill)
		fmt.Fprintf(p.w, "\r\033[Kimport [%s] %d/%d %3.0f%%  committing %.0f rows/s  ETA %s  sent %d/%d (%.0f rows/s)",
			bar, decided, c.Valid, pct, rate, eta, c.Sent+c.Refused, c.ToSend, sentRate)
		p.drawn = true
		if final {
			fmt.Fprintln(p.w)
			p.drawn = false
		}
		return
	}
	fmt.Fprintf(p.w, "import: %d/%d rows decided (%.0f%%) at %.0f rows/s, ETA %s: %d committed, %d rejected, %d refused; sent %d/%d at %.0f rows/s\n",
		decided, c.Valid, pct, rate, eta, c.Committed, c.Rejected, c.Refused+c.RefusedBefore, c.Sent+c.Refused, c.ToSend, sentRate)
}

// note prints a line without tearing the bar.
func (p *progress) note(format string, args ...any) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
