package importer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress shows how far an import is: a bar redrawn in place on a
// terminal, plain lines at intervals otherwise (logs, CI).
type progress struct {
	w         io.Writer
	tty       bool
	start     time.Time
	lastPlain time.Time
	drawn     bool
	// sent is when the last row was answered: the sending rate stops
	// there, while the wait for commits goes on.
	sent time.Time
}

const (
	ttyEvery   = 200 * time.Millisecond
	plainEvery = 5 * time.Second
	barWidth   = 24
)

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, start: time.Now()}
}

// show draws c; final forces a last line.
func (p *progress) show(c Counts, final bool) {
	now := time.Now()
	if p.sent.IsZero() && c.Sent+c.Refused >= c.ToSend {
		p.sent = now
	}
	if !p.tty && !final && now.Sub(p.lastPlain) < plainEvery {
		return
	}
	p.lastPlain = now
	elapsed := now.Sub(p.start).Seconds()
	if !p.sent.IsZero() {
		elapsed = p.sent.Sub(p.start).Seconds()
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(c.Sent+c.Refused) / elapsed
	}
	eta := "?"
	if left := c.ToSend - c.Sent - c.Refused; left == 0 {
		eta = "0s"
	} else if rate > 0 {
		eta = (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
	}
	pct := 100.0
	if c.ToSend > 0 {
		pct = 100 * float64(c.Sent+c.Refused) / float64(c.ToSend)
	}
	if p.tty {
		fill := int(pct / 100 * barWidth)
		bar := strings.Repeat("█", fill) + strings.Repeat("░", barWidth-fill)
		fmt.Fprintf(p.w, "\r\033[Kimport [%s] %d/%d %3.0f%%  %.0f rows/s  ETA %s  committed %d",
			bar, c.Sent+c.Refused, c.ToSend, pct, rate, eta, c.Committed)
		p.drawn = true
		if final {
			fmt.Fprintln(p.w)
			p.drawn = false
		}
		return
	}
	fmt.Fprintf(p.w, "import: %d/%d rows sent (%.0f%%), %.0f rows/s, ETA %s, %d committed, %d rejected, %d refused\n",
		c.Sent+c.Refused, c.ToSend, pct, rate, eta, c.Committed, c.Rejected, c.Refused)
}

// note prints a line without tearing the bar.
func (p *progress) note(format string, args ...any) {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
