package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/creditchain/creditchain/cmd/creditchain/importer"
)

func init() {
	register("export", "a replica's records as CSV or JSON lines: export --database URL [--format csv|jsonl] [--status listed|all] [--out FILE]", runExport)
}

func exportUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: creditchain export --database URL [--format csv|jsonl] [--status listed|all]
         [--authority USCC] [--include-personal] [--out FILE]

Writes the records of an institution's replica in ledger order. The CSV uses
the column names of creditchain import, so an export re-imports. Persons are
masked unless --include-personal (operators only: the output then holds
personal data). Columns: docs/import-export.md.`)
}

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("creditchain export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { exportUsage(stderr) }
	dbURL := fs.String("database", "", "PostgreSQL URL of the replica")
	format := fs.String("format", "csv", "csv or jsonl")
	status := fs.String("status", "listed", "listed (active records) or all")
	authority := fs.String("authority", "", "only the records this institution (USCC) created")
	includePersonal := fs.Bool("include-personal", false, "persons' names and ID numbers in full")
	out := fs.String("out", "", "output file (default stdout)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			exportUsage(stdout)
			return 0
		}
		return 2
	}
	if len(pos) != 0 || *dbURL == "" {
		fmt.Fprintln(stderr, "creditchain export: --database is required and takes no other arguments")
		exportUsage(stderr)
		return 2
	}
	if *format != "csv" && *format != "jsonl" || *status != "listed" && *status != "all" {
		fmt.Fprintln(stderr, "creditchain export: --format is csv or jsonl, --status listed or all")
		return 2
	}
	if *includePersonal {
		fmt.Fprintln(stderr, "creditchain export: WARNING: --include-personal writes persons' full names and ID numbers; "+
			"keep the output as protected as the replica itself (PIPL) and delete it after use")
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			fmt.Fprintln(stderr, "creditchain export:", err)
			return 1
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	n, err := importer.Export(context.Background(), importer.ExportConfig{DatabaseURL: *dbURL, Format: *format,
		Status: *status, IncludePersonal: *includePersonal, Authority: *authority}, bw)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "creditchain", err)
		return 1
	}
	fmt.Fprintf(stderr, "creditchain export: %d records\n", n)
	return 0
}
