package importer

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// maxListed bounds the problems and lines a summary lists; the report has
// them all.
const maxListed = 20

// Print writes the summary for people.
func (s *Summary) Print(w io.Writer, file string, skipInvalid bool) {
	fmt.Fprintf(w, "import %s (%s): %d rows, %d valid, %d invalid\n", file, s.Encoding, s.Rows, s.Valid, s.Invalid)
	if s.Invalid > 0 {
		s.printInvalid(w, skipInvalid)
	}
	if s.DryRun {
		fmt.Fprintf(w, "dry run: nothing submitted; report %s\n", s.ReportPath)
		return
	}
	if s.Invalid > 0 && !skipInvalid {
		return
	}
	fmt.Fprintf(w, "sent: %d in this run, %d by earlier runs; refused by intake: %d\n", s.Sent, s.Earlier, s.Refused)
	fmt.Fprintf(w, "committed: %d, rejected: %d, pending: %d\n", s.Committed, s.Rejected, s.Pending)
	if n := s.Committed - s.CommittedEarlier; n > 0 && s.Elapsed > 0 {
		fmt.Fprintf(w, "rate: %.1f rows/s end to end (%d rows committed in %s, reading and waiting included)\n",
			float64(n)/s.Elapsed.Seconds(), n, s.Elapsed.Round(100*time.Millisecond))
	}
	s.printReasons(w)
	fmt.Fprintf(w, "state: %s (every row up to line %d is done)\n", s.StatePath, s.Upto)
	if len(s.Problems) > 0 {
		fmt.Fprintf(w, "report: %s (%d problems)\n", s.ReportPath, len(s.Problems))
	}
	switch {
	case s.Interrupted:
		fmt.Fprintln(w, "interrupted: rerun the same command (same state file) to go on; no row will be sent twice")
	case s.Pending > 0:
		fmt.Fprintln(w, "some rows are still pending: rerun the same command to keep waiting for them")
	}
}

func (s *Summary) printInvalid(w io.Writer, skipInvalid bool) {
	listed := 0
	for _, p := range s.Problems {
		if p.Stage != StageValidate {
			continue
		}
		if listed++; listed > maxListed {
			fmt.Fprintf(w, "  ... (all of them in %s)\n", s.ReportPath)
			break
		}
		col := ""
		if p.Column != "" {
			col = " [" + p.Column + "]"
		}
		fmt.Fprintf(w, "  line %d%s: %s\n", p.Line, col, p.Reason)
	}
	if skipInvalid {
		fmt.Fprintf(w, "skipping the %d invalid rows (--skip-invalid); report %s\n", s.Invalid, s.ReportPath)
	} else if !s.DryRun {
		fmt.Fprintf(w, "nothing submitted: fix the rows listed in %s, or rerun with --skip-invalid\n", s.ReportPath)
	}
}

// printReasons groups refusals and rejections by their code.
func (s *Summary) printReasons(w io.Writer) {
	byReason := map[string][]int{}
	for _, p := range s.Problems {
		if p.Stage == StageValidate {
			continue
		}
		code, _, _ := strings.Cut(p.Reason, ":")
		key := p.Stage + " " + code
		byReason[key] = append(byReason[key], p.Line)
	}
	keys := make([]string, 0, len(byReason))
	for k := range byReason {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines := byReason[k]
		shown := make([]string, 0, maxListed)
		for i, l := range lines {
			if i == maxListed {
				shown = append(shown, "...")
				break
			}
			shown = append(shown, fmt.Sprint(l))
		}
		stage, code, _ := strings.Cut(k, " ")
		verb := "rejected"
		if stage == StageIntake {
			verb = "refused by intake"
		}
		fmt.Fprintf(w, "%s %s: %d rows (lines %s)\n", verb, code, len(lines), strings.Join(shown, ", "))
	}
}
