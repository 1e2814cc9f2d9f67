package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditchain/creditchain/pkg/ids"
)

func init() {
	register("id", "check an identifier: id check [--legacy FILE] CODE", runID)
}

func runID(args []string, stdout, stderr io.Writer) int {
	return runIDAt(time.Now(), args, stdout, stderr)
}

// runIDAt takes the clock as a parameter because a citizen ID's birth date
// is only valid up to today.
func runIDAt(now time.Time, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		idUsage(stderr)
		return 2
	}
	switch args[0] {
	case "check":
		return runIDCheck(now, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		idUsage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "creditchain id: unknown subcommand %q\n", args[0])
		idUsage(stderr)
		return 2
	}
}

func idUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: creditchain id check [--legacy FILE] CODE")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Checks CODE exactly as written (uppercase, no spaces) as a unified social")
	fmt.Fprintln(w, "credit code (GB 32100) and as a citizen ID (GB 11643). Exit 0 valid,")
	fmt.Fprintln(w, "1 invalid, 2 usage error. --legacy names a file of allow-listed pilot")
	fmt.Fprintln(w, "USCCs, one per line, accepted despite a wrong check character.")
}

func runIDCheck(now time.Time, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain id check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { idUsage(stderr) }
	legacyFile := fs.String("legacy", "", "file of allow-listed legacy USCCs, one per line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "creditchain id check: expected exactly one CODE, got %d arguments\n", fs.NArg())
		idUsage(stderr)
		return 2
	}
	code := fs.Arg(0)

	legacy, err := loadLegacyList(*legacyFile)
	if err != nil {
		fmt.Fprintf(stderr, "creditchain id check: %v\n", err)
		return 2
	}

	kinds, err := ids.ClassifyWith(code, now, legacy)
	if err != nil {
		var e *ids.Error
		if errors.As(err, &e) {
			fmt.Fprintf(stdout, "invalid: %s\n", e.Message)
		} else {
			fmt.Fprintf(stdout, "invalid: %v\n", err)
		}
		return 1
	}
	for _, k := range kinds {
		switch k {
		case ids.Organization:
			fmt.Fprintln(stdout, "valid organization code (USCC)")
			warnIfLegacy(code, legacy, stderr)
		case ids.Person:
			fmt.Fprintln(stdout, "valid citizen ID")
		}
	}
	return 0
}

// warnIfLegacy says so when a code passed only through the allow-list, so
// the operator never mistakes a tolerated code for a correct one.
func warnIfLegacy(code string, legacy ids.LegacyList, stderr io.Writer) {
	if !legacy.Contains(code) {
		return
	}
	var e *ids.Error
	if err := ids.CheckUSCCWith(code, ids.LegacyList{}); errors.As(err, &e) {
		fmt.Fprintf(stderr, "warning: legacy code accepted only through the allow-list (%s)\n", e.Message)
	}
}

func loadLegacyList(path string) (ids.LegacyList, error) {
	if path == "" {
		return ids.LegacyList{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ids.LegacyList{}, fmt.Errorf("reading legacy list: %w", err)
	}
	list, err := ids.ParseLegacyList(string(data))
	if err != nil {
		return ids.LegacyList{}, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}
