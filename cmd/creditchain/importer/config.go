package importer

import (
	"io"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
)

// Config is one `creditchain import`.
type Config struct {
	File     string
	Network  *Network
	Key      *suite.KeyFile
	Mapping  *Mapping // nil: the default aliases alone
	Encoding string   // auto (default), utf-8 or gbk; CSV only
	// DryRun validates and writes the report; it submits nothing and
	// leaves the state file alone.
	DryRun bool
	// SkipInvalid submits the valid rows although others are bad.
	SkipInvalid bool
	StatePath   string // default: File + ".import-state"
	ReportPath  string // default: File + ".report.csv"
	// Workers is the number of concurrent submissions; default 32. Each
	// POST waits for intake to publish to JetStream and write a receipt,
	// tens of milliseconds on a busy machine, so the rows in flight, not
	// the importer's CPU, bound the sending rate (8 workers at 28 ms per
	// POST could not send more than ~280 rows/s).
	Workers int
	Batch   int // rows signed and journalled per fsync; default 200
	// MaxPending bounds the rows accepted by intake and not yet decided;
	// sending pauses above it. Default 4000.
	MaxPending int
	// Wait is how long to keep waiting for final statuses after the last
	// submission while none arrives; default 2 minutes.
	Wait time.Duration
	// RetryFor bounds how long one row is retried while intake is
	// unavailable before the import stops (it can be rerun); default 2 min.
	RetryFor time.Duration
	// Progress receives the progress bar (TTY) or progress lines, and notes.
	Progress io.Writer
	TTY      bool
	Now      func() time.Time
	// Observe, if set, is called with the running counts after every
	// answer; `creditchain import` leaves it nil (tests stop an import
	// halfway with it).
	Observe func(Counts)
}

// Counts are the running totals of an import.
type Counts struct {
	Valid     int // valid rows of the file (the import's whole work)
	ToSend    int // rows this run has to send
	Sent      int // of those, answered 202/409 by intake
	Refused   int // of those, refused by intake
	Committed int // over every valid row, earlier runs included
	Rejected  int
	// RefusedBefore are rows refused by intake in earlier runs; Before,
	// the rows decided (committed, rejected or refused) before this run.
	RefusedBefore int
	Before        int
}

// Decided is the number of valid rows that need nothing more: committed,
// rejected or refused, in this run or earlier ones.
func (c Counts) Decided() int { return c.Committed + c.Rejected + c.Refused + c.RefusedBefore }

// DefaultWorkers is the default of Config.Workers and --workers.
const DefaultWorkers = 32

func (c *Config) defaults() {
	if c.StatePath == "" {
		c.StatePath = c.File + ".import-state"
	}
	if c.ReportPath == "" {
		c.ReportPath = c.File + ".report.csv"
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 4000
	}
	if c.Wait <= 0 {
		c.Wait = 2 * time.Minute
	}
	if c.RetryFor <= 0 {
		c.RetryFor = 2 * time.Minute
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
