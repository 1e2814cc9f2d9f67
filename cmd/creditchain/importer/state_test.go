package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testHeader = StateHeader{FileSHA256: strings.Repeat("a", 64), Settings: strings.Repeat("b", 64), Chain: "c", Submitter: "s"}

func TestStateJournalReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import-state")
	s, err := OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		s.Intent(2, "tx2", "2026-11-25T08:00:00Z", ""),
		s.Intent(3, "tx3", "2026-11-25T08:00:00Z", strings.Repeat("5", 64)),
		s.Intent(4, "tx4", "2026-11-25T08:00:00Z", ""),
		s.Intent(5, "tx5", "2026-11-25T08:00:00Z", ""),
		s.Accepted(2),
		s.Final(3, "rejected", 9, "unknown_policy: no active policy"),
		s.Refused(4, "invalid_uscc: check character"),
		s.SetUpto(4),
		// Line 6 was signed again after its first intent was found never
		// to have reached intake: the later intent wins.
		s.Intent(6, "tx6a", "2026-11-25T07:00:00Z", ""),
		s.Intent(6, "tx6b", "2026-11-25T08:00:00Z", ""),
		s.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	s, err = OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if g := s.Get(2); !g.Accepted || g.Tx != "tx2" || !g.Done() {
		t.Errorf("line 2: %+v", g)
	}
	if g := s.Get(3); g.Final != "rejected" || g.Height != 9 || g.Reason == "" || g.Salt != strings.Repeat("5", 64) || !g.Done() {
		t.Errorf("line 3: %+v", g)
	}
	if g := s.Get(4); g.Refused == "" || !g.Done() {
		t.Errorf("line 4: %+v", g)
	}
	if g := s.Get(5); g.Tx != "tx5" || g.Done() {
		t.Errorf("line 5 should be in doubt: %+v", g)
	}
	if g := s.Get(6); g.Tx != "tx6b" || g.CreatedAt != "2026-11-25T08:00:00Z" {
		t.Errorf("line 6: %+v", g)
	}
	if s.Upto != 4 {
		t.Errorf("upto %d", s.Upto)
	}
}

func TestStateTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import-state")
	s, err := OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Intent(2, "tx2", "2026-11-25T08:00:00Z", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"line":3,"tx":"tx3","crea`) // the crash came mid-write
	f.Close()
	s, err = OpenState(path, testHeader)
	if err != nil {
		t.Fatalf("a torn last line must be dropped, not fatal: %v", err)
	}
	if g := s.Get(3); g.Tx != "" {
		t.Errorf("torn line applied: %+v", g)
	}
	if err := s.Accepted(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), `"line":3`) || strings.Count(string(raw), "\n") != 3 {
		t.Errorf("journal after reopening:\n%s", raw)
	}
}

func TestStateRefusesAnotherFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import-state")
	s, err := OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, h := range map[string]StateHeader{
		"SHA-256":   {FileSHA256: strings.Repeat("f", 64), Settings: testHeader.Settings, Chain: "c", Submitter: "s"},
		"mapping":   {FileSHA256: testHeader.FileSHA256, Settings: strings.Repeat("f", 64), Chain: "c", Submitter: "s"},
		"submitter": {FileSHA256: testHeader.FileSHA256, Settings: testHeader.Settings, Chain: "c", Submitter: "other"},
	} {
		if _, err := OpenState(path, h); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("another %s: %v", name, err)
		}
	}
	// A corrupt line in the middle is an error, not silently skipped.
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(raw, []byte("not json\n{\"upto\":3}\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenState(path, testHeader); err == nil {
		t.Error("a corrupt journal line was accepted")
	}
}

// TestStateSyncConcurrent records and syncs from several goroutines, as
// the signer, the collector, the waiter and the ticker do: when a Sync
// returns, the lines its caller recorded before it are in the file (the
// fsync runs outside the lock, so a Sync must not return on the strength
// of another one that flushed earlier).
func TestStateSyncConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import-state")
	s, err := OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 50
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range perWriter {
				line := 2 + w*perWriter + i
				tx := fmt.Sprintf("tx%d", line)
				if err := s.Intent(line, tx, "2026-11-25T08:00:00Z", ""); err != nil {
					errs <- err
					return
				}
				if err := s.Sync(); err != nil {
					errs <- err
					return
				}
				raw, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				if !strings.Contains(string(raw), `"tx":"`+tx+`"`) {
					errs <- fmt.Errorf("line %d not in the file after Sync returned", line)
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenState(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Lines) != writers*perWriter {
		t.Errorf("%d lines reloaded, want %d", len(s.Lines), writers*perWriter)
	}
}
