package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/importer"
	"github.com/creditchain/creditchain/pkg/suite"
)

func init() {
	register("import", "bulk record.create from a list: import FILE.csv|FILE.xlsx --key FILE --network FILE [--mapping FILE] [--dry-run] [--skip-invalid]", runImport)
}

func importUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: creditchain import FILE (.csv or .xlsx) --key FILE --network FILE
         [--mapping FILE] [--dry-run] [--skip-invalid] [--state FILE] [--report FILE]
         [--encoding auto|utf-8|gbk] [--workers N] [--max-pending N] [--wait D]

Validates every row, then submits one record.create per row signed with the
recorder's key. Bad rows go to the report (CSV: line, stage, column, value,
reason); with any bad row nothing is submitted unless --skip-invalid.
Interrupted imports resume when rerun with the same state file; no row is
submitted twice. Columns and formats: docs/import-export.md.

Exit 0 when every row is committed, 1 otherwise, 2 for a usage error.`)
}

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { importUsage(stderr) }
	keyPath := fs.String("key", "", "key file of the recorder that signs the records")
	networkPath := fs.String("network", "", "network.json")
	mappingPath := fs.String("mapping", "", "JSON mapping of column names and defaults")
	dryRun := fs.Bool("dry-run", false, "validate and write the report; submit nothing")
	skipInvalid := fs.Bool("skip-invalid", false, "submit the valid rows even if others are bad")
	statePath := fs.String("state", "", "state file for resuming (default FILE.import-state)")
	reportPath := fs.String("report", "", "bad-row report, CSV (default FILE.report.csv)")
	encoding := fs.String("encoding", importer.EncodingAuto, "CSV encoding: auto, utf-8 or gbk")
	workers := fs.Int("workers", importer.DefaultWorkers, "concurrent submissions")
	maxPending := fs.Int("max-pending", 4000, "pause sending while this many accepted rows await their final status")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for final statuses once nothing more arrives")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			importUsage(stdout)
			return 0
		}
		return 2
	}
	if len(pos) != 1 || *keyPath == "" || *networkPath == "" {
		fmt.Fprintln(stderr, "creditchain import: need exactly one FILE, --key and --network")
		importUsage(stderr)
		return 2
	}
	cfg := importer.Config{File: pos[0], Encoding: *encoding, DryRun: *dryRun, SkipInvalid: *skipInvalid,
		StatePath: *statePath, ReportPath: *reportPath, Workers: *workers, MaxPending: *maxPending, Wait: *wait,
		Progress: stderr, TTY: isTerminal(stderr)}
	if cfg.Network, err = importer.LoadNetwork(*networkPath); err != nil {
		fmt.Fprintln(stderr, "creditchain import:", err)
		return 1
	}
	if cfg.Key, err = suite.LoadKeyFile(*keyPath); err != nil {
		fmt.Fprintln(stderr, "creditchain import:", err)
		return 1
	}
	if *mappingPath != "" {
		if cfg.Mapping, err = importer.LoadMapping(*mappingPath); err != nil {
			fmt.Fprintln(stderr, "creditchain import:", err)
			return 1
		}
	}
	// Ctrl-C stops sending; what was sent is in the state file.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := importer.Run(ctx, cfg)
	if sum != nil {
		sum.Print(stdout, cfg.File, cfg.SkipInvalid)
	}
	if err != nil {
		fmt.Fprintln(stderr, "creditchain", err)
		return 1
	}
	if sum.DryRun {
		if sum.Invalid > 0 && !cfg.SkipInvalid {
			return 1
		}
		return 0
	}
	if !sum.Complete(cfg.SkipInvalid) {
		return 1
	}
	return 0
}

// isTerminal reports whether w is a terminal, where a progress bar can be
// redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
