package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// The state file is an append-only journal of JSON lines. Its first line is
// the header binding it to one input file, mapping, chain and submitter.
// Then, per row:
//
//	{"line":12,"tx":"<id>","created_at":"…","salt":"…"}  signed, about to be sent
//	{"line":12,"accepted":true}                          intake answered 202 or 409
//	{"line":12,"refused":"invalid_uscc: …"}              intake refused it (4xx)
//	{"line":12,"final":"committed","height":5}           or "rejected" with "reason"
//	{"upto":120}                                         every row up to line 120 is done
//
// The intent line is written and fsynced before the row is sent: a row
// whose intent is on disk but whose answer is not is "in doubt", and a rerun
// rebuilds the very same envelope (same nonce, created_at and salt, hence the
// same tx id) and sends it again, which intake answers 409 if the first send
// arrived. That is what makes "never submitted twice" hold across a crash at
// any point; see docs/import-export.md.

// stateVersion is the journal format's version.
const stateVersion = 1

// StateHeader is the journal's first line.
type StateHeader struct {
	Version    int    `json:"version"`
	FileSHA256 string `json:"file_sha256"`
	Settings   string `json:"settings_sha256"` // mapping, encoding and sheet
	Chain      string `json:"chain"`
	Submitter  string `json:"submitter"`
}

// stateEntry is one journal line after the header.
type stateEntry struct {
	Line      int    `json:"line,omitempty"`
	Tx        string `json:"tx,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	Salt      string `json:"salt,omitempty"`
	Accepted  bool   `json:"accepted,omitempty"`
	Refused   string `json:"refused,omitempty"`
	Final     string `json:"final,omitempty"`
	Height    uint64 `json:"height,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Upto      int    `json:"upto,omitempty"`
}

// LineState is what the journal knows about one row.
type LineState struct {
	Tx        string
	CreatedAt string
	Salt      string
	Accepted  bool
	Refused   string
	Final     string // committed or rejected
	Height    uint64
	Reason    string
}

// Done reports whether the row needs no more sending.
func (s *LineState) Done() bool { return s.Accepted || s.Refused != "" || s.Final != "" }

// State is an open journal.
type State struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	Lines map[int]*LineState
	Upto  int
	dirty bool
	// flushed counts the flushes of w to the file (under mu); synced is
	// the last flush an fsync is known to cover (under syncMu). The fsync
	// runs outside mu: it takes tens of milliseconds on a busy disk, and
	// holding mu through it stalled the collector, the waiter and the
	// signer, and with them every worker.
	flushed uint64
	syncMu  sync.Mutex
	synced  uint64
}

// OpenState opens (or creates) the journal at path for header. An existing
// journal must have the same header: it belongs to this file and mapping.
// A last line cut short by a crash is dropped.
func OpenState(path string, h StateHeader) (*State, error) {
	h.Version = stateVersion
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	s := &State{f: f, Lines: map[int]*LineState{}}
	good, err := s.load(h)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	s.w = bufio.NewWriterSize(f, 64<<10)
	if good == 0 {
		if err := s.writeLine(h); err != nil {
			f.Close()
			return nil, err
		}
		if err := s.Sync(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return s, nil
}

// load reads the journal and returns the length of its whole lines.
func (s *State) load(want StateHeader) (int64, error) {
	data, err := io.ReadAll(s.f)
	if err != nil {
		return 0, err
	}
	var good int64
	first := true
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // torn last line: the crash came mid-write
		}
		line := data[:i]
		if first {
			var h StateHeader
			if err := json.Unmarshal(line, &h); err != nil {
				return 0, fmt.Errorf("header: %w", err)
			}
			if err := checkHeader(h, want); err != nil {
				return 0, err
			}
			first = false
		} else {
			var e stateEntry
			if err := json.Unmarshal(line, &e); err != nil {
				return 0, fmt.Errorf("line %d: %w", n, err)
			}
			s.apply(e)
		}
		good += int64(i + 1)
		data = data[i+1:]
	}
	return good, nil
}

func checkHeader(got, want StateHeader) error {
	switch {
	case got.Version != want.Version:
		return fmt.Errorf("format version %d, this creditchain writes %d", got.Version, want.Version)
	case got.FileSHA256 != want.FileSHA256:
		return errors.New("written for another version of the input file (its SHA-256 differs); a changed file needs a new state file, and rows already submitted from the old one must be left out of it")
	case got.Settings != want.Settings:
		return errors.New("written with another mapping, encoding or sheet; rerun with the same ones")
	case got.Chain != want.Chain || got.Submitter != want.Submitter:
		return fmt.Errorf("written for chain %s and submitter %s, not %s and %s", got.Chain, got.Submitter, want.Chain, want.Submitter)
	}
	return nil
}

func (s *State) apply(e stateEntry) {
	if e.Upto > s.Upto {
		s.Upto = e.Upto
	}
	if e.Line == 0 {
		return
	}
	ls := s.Lines[e.Line]
	if ls == nil {
		ls = &LineState{}
		s.Lines[e.Line] = ls
	}
	switch {
	case e.Tx != "":
		// A later intent replaces an earlier one only after the earlier was
		// found never to have reached intake (see resign in submit.go).
		*ls = LineState{Tx: e.Tx, CreatedAt: e.CreatedAt, Salt: e.Salt}
	case e.Accepted:
		ls.Accepted = true
	case e.Refused != "":
		ls.Refused = e.Refused
	case e.Final != "":
		ls.Accepted = true
		ls.Final, ls.Height, ls.Reason = e.Final, e.Height, e.Reason
	}
}

func (s *State) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	s.dirty = true
	return nil
}

// record applies e and appends it; it reaches the disk with the next Sync.
func (s *State) record(e stateEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(e)
	return s.writeLine(e)
}

// Intent records that line is about to be sent as tx.
func (s *State) Intent(line int, tx, createdAt, salt string) error {
	return s.record(stateEntry{Line: line, Tx: tx, CreatedAt: createdAt, Salt: salt})
}

// Accepted records intake's 202 or 409.
func (s *State) Accepted(line int) error { return s.record(stateEntry{Line: line, Accepted: true}) }

// Refused records intake's refusal (a final 4xx).
func (s *State) Refused(line int, reason string) error {
	return s.record(stateEntry{Line: line, Refused: reason})
}

// Final records a committed or rejected receipt.
func (s *State) Final(line int, status string, height uint64, reason string) error {
	return s.record(stateEntry{Line: line, Final: status, Height: height, Reason: reason})
}

// SetUpto records that every row up to line is done.
func (s *State) SetUpto(line int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if line <= s.Upto {
		return nil
	}
	s.Upto = line
	return s.writeLine(stateEntry{Upto: line})
}

// Get returns a copy of a line's state (zero if unknown).
func (s *State) Get(line int) LineState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ls := s.Lines[line]; ls != nil {
		return *ls
	}
	return LineState{}
}

// Sync flushes the journal to stable storage: when it returns, every
// line recorded before the call is on disk. Lines may be recorded while it
// waits for the disk; they are covered by the next Sync.
func (s *State) Sync() error {
	s.mu.Lock()
	if s.dirty {
		if err := s.w.Flush(); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("state file: %w", err)
		}
		s.dirty = false
		s.flushed++
	}
	need := s.flushed
	s.mu.Unlock()
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= need {
		return nil // a concurrent Sync's fsync began after our flush
	}
	// Everything flushed before this fsync starts is covered by it, which
	// may be more than need.
	s.mu.Lock()
	covered := s.flushed
	s.mu.Unlock()
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	s.synced = covered
	return nil
}

// Close syncs and closes the journal.
func (s *State) Close() error {
	err := s.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
