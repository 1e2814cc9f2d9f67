package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
)

// Summary is the outcome of one import run. Committed, Rejected, Refused
// and Pending count every valid row of the file, earlier runs included.
type Summary struct {
	Encoding    string
	Rows        int
	Valid       int
	Invalid     int
	Ignored     []string
	DryRun      bool
	Interrupted bool
	Earlier     int // valid rows intake had accepted in earlier runs
	Sent        int // rows intake accepted in this run
	Refused     int
	Committed   int
	Rejected    int
	// CommittedEarlier were already known committed when this run began.
	CommittedEarlier int
	Pending          int
	Upto             int // every row up to this line is done
	Problems         []Problem
	Elapsed          time.Duration
	ReportPath       string
	StatePath        string
}

// Complete reports whether every valid row is committed and, unless
// skipInvalid, no row was invalid.
func (s *Summary) Complete(skipInvalid bool) bool {
	if s.Invalid > 0 && !skipInvalid {
		return false
	}
	return !s.DryRun && !s.Interrupted && s.Refused == 0 && s.Rejected == 0 && s.Pending == 0 && s.Committed == s.Valid
}

// Run imports cfg.File. It returns an error for what stops the import as a
// whole (unreadable file, unknown columns, a key that is not a recorder's,
// intake unreachable); bad rows are problems in the summary. A cancelled ctx
// stops it with Interrupted set: rerun with the same state file to resume.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	cfg.defaults()
	started := time.Now()
	if cfg.Network == nil || cfg.Key == nil {
		return nil, errors.New("import: a network and a key are required")
	}
	su, err := suite.ByName(cfg.Network.CryptoSuite)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	rec, err := cfg.Network.recorder(cfg.Key.Institution)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	mapping := cfg.Mapping
	if mapping == nil {
		mapping = &Mapping{}
	}
	t, err := ReadTable(cfg.File, cfg.Encoding, mapping.Sheet)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	cols, err := Resolve(t.Header, mapping)
	if err != nil {
		return nil, fmt.Errorf("import: %s: %w", cfg.File, err)
	}
	parser := &Parser{Cols: cols, Date1904: t.Date1904, Now: cfg.Now(), Institution: rec.ID,
		Categories: rec.Categories, Suite: su, Chain: cfg.Network.ChainID}
	if err := parser.CheckHeader(); err != nil {
		return nil, fmt.Errorf("import: %s: %w", cfg.File, err)
	}
	items, problems := parser.Parse(t.Rows)
	sum := &Summary{Encoding: t.Encoding, Rows: len(t.Rows), Valid: len(items), Invalid: len(t.Rows) - len(items),
		Ignored: cols.Ignored, DryRun: cfg.DryRun, Problems: problems, ReportPath: cfg.ReportPath, StatePath: cfg.StatePath}
	prog := newProgress(cfg.Progress, cfg.TTY)
	if len(cols.Ignored) > 0 {
		prog.note("import: columns not imported: %v", cols.Ignored)
	}
	if cfg.DryRun || (sum.Invalid > 0 && !cfg.SkipInvalid) {
		sum.Elapsed = time.Since(started)
		return sum, WriteReport(cfg.ReportPath, problems)
	}

	state, err := OpenState(cfg.StatePath, StateHeader{FileSHA256: t.SHA256, Settings: settingsHash(mapping, t.Encoding),
		Chain: cfg.Network.ChainID, Submitter: cfg.Key.Institution})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	s := newSession(&cfg, state, &signer{chain: cfg.Network.ChainID, suite: su, key: cfg.Key, fileSHA: t.SHA256}, t.Rows, items)
	toSend, earlier := s.plan(items)
	sum.Earlier, sum.CommittedEarlier = earlier, s.counts.Committed
	if earlier > 0 || state.Upto > 0 {
		prog.note("import: resuming: %d rows were sent by earlier runs (every row up to line %d was done)", earlier, state.Upto)
	}
	runErr := s.submit(ctx, toSend, prog)
	s.advance()
	if err := s.flush(); err != nil && runErr == nil {
		runErr = err
	}
	if err := state.Close(); err != nil && runErr == nil {
		runErr = err
	}
	c := s.snapshot()
	prog.show(c, true)
	sum.Sent, sum.Refused, sum.Committed, sum.Rejected = c.Sent, c.Refused+s.refusedEarlier, c.Committed, c.Rejected
	sum.Pending = s.waiter.pending()
	sum.Interrupted = ctx.Err() != nil
	sum.Upto = state.Upto
	sum.Problems = append(sum.Problems, s.settledProblems(items)...)
	sum.Elapsed = time.Since(started)
	if err := WriteReport(cfg.ReportPath, sum.Problems); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && !sum.Interrupted {
		return sum, fmt.Errorf("import: %w", runErr)
	}
	return sum, nil
}

func newSession(cfg *Config, state *State, sg *signer, rows []Row, items []*Item) *session {
	s := &session{cfg: cfg, state: state, sg: sg, done: map[int]bool{},
		client: newIntakeClient(cfg.Network.IntakeURL, cfg.Workers+waitPollers)}
	s.waiter = newWaiter(s)
	valid := make(map[int]bool, len(items))
	for _, it := range items {
		valid[it.Line] = true
	}
	for _, r := range rows {
		s.lines = append(s.lines, r.Line)
		if !valid[r.Line] {
			s.done[r.Line] = true // invalid and skipped
		}
	}
	return s
}

// settledProblems are the rows intake refused or consensus rejected, from
// the journal, so that a rerun's report still names them.
func (s *session) settledProblems(items []*Item) []Problem {
	var out []Problem
	for _, it := range items {
		ls := s.state.Get(it.Line)
		switch {
		case ls.Refused != "":
			out = append(out, Problem{Line: it.Line, Stage: StageIntake, Reason: ls.Refused})
		case ls.Final == "rejected":
			out = append(out, Problem{Line: it.Line, Stage: StageConsensus, Value: ls.Tx, Reason: ls.Reason})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func settingsHash(m *Mapping, encoding string) string {
	b, _ := json.Marshal(struct {
		Mapping  string `json:"mapping"`
		Encoding string `json:"encoding"`
	}{m.hash(), encoding})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
