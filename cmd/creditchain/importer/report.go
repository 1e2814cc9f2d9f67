package importer

import (
	"encoding/csv"
	"fmt"
	"os"
	"sort"
	"strconv"
)

// ReportHeader is the first line of the bad-row report.
var ReportHeader = []string{"line", "stage", "column", "value", "reason"}

// WriteReport writes problems as CSV (UTF-8 with a BOM, which Excel needs
// to show Chinese): one line per problem, ordered by line. Values of
// persons' ID numbers and names are masked: the report is passed around
// more freely than the input file.
func WriteReport(path string, problems []Problem) error {
	sorted := append([]Problem(nil), problems...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Line < sorted[j].Line })
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := f.WriteString("\uFEFF"); err != nil {
		f.Close()
		return fmt.Errorf("report: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(ReportHeader)
	for _, p := range sorted {
		_ = w.Write([]string{strconv.Itoa(p.Line), p.Stage, p.Column, p.Value, p.Reason})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
