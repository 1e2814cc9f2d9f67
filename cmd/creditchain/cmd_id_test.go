package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type idRun struct {
	code           int
	stdout, stderr string
}

// runIDCommand calls the registered "id" command in-process, as main would.
func runIDCommand(t *testing.T, args ...string) idRun {
	t.Helper()
	c, ok := commands["id"]
	if !ok {
		t.Fatal(`"id" command not registered`)
	}
	var out, errb bytes.Buffer
	code := c.run(args, &out, &errb)
	return idRun{code, out.String(), errb.String()}
}

func TestIDCheckValid(t *testing.T) {
	cases := []struct{ code, stdout string }{
		{"91350200776049653A", "valid organization code (USCC)\n"},
		{"11010519491231002X", "valid citizen ID\n"},
		{"110000198506151167", "valid organization code (USCC)\nvalid citizen ID\n"},
	}
	for _, tc := range cases {
		r := runIDCommand(t, "check", tc.code)
		if r.code != 0 || r.stdout != tc.stdout || r.stderr != "" {
			t.Errorf("id check %s = %+v, want exit 0 and %q", tc.code, r, tc.stdout)
		}
	}
}

func TestIDCheckInvalid(t *testing.T) {
	cases := []struct{ code, stdout string }{
		{"91350200776049653B", "invalid: check character: expected 'A', got 'B'\n"},
		{"", "invalid: empty: no code given\n"},
		{"91350200776049653a", "invalid: alphabet: lowercase 'a' at position 18; codes are written in uppercase\n"},
		{"11010519491231002x", "invalid: check character: expected 'X', got lowercase 'x'; write it in uppercase\n"},
		{"9135 0200776049653A", "invalid: length: expected 18 characters, got 19\n"},
	}
	for _, tc := range cases {
		r := runIDCommand(t, "check", tc.code)
		if r.code != 1 || r.stdout != tc.stdout {
			t.Errorf("id check %q = %+v, want exit 1 and %q", tc.code, r, tc.stdout)
		}
	}
}

func TestIDCheckBirthDateUsesClock(t *testing.T) {
	const bornOn26Nov2026 = "110105202611260011"
	var out, errb bytes.Buffer
	before := time.Date(2026, time.November, 25, 15, 59, 0, 0, time.UTC) // 23:59 CST on the 25th
	if code := runIDAt(before, []string{"check", bornOn26Nov2026}, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "birth date: 2026-11-26 is after today (2026-11-25, China Standard Time)") {
		t.Errorf("before birth: exit %d, stdout %q", code, out.String())
	}
	out.Reset()
	after := before.Add(time.Minute) // midnight CST on the 26th
	if code := runIDAt(after, []string{"check", bornOn26Nov2026}, &out, &errb); code != 0 || out.String() != "valid citizen ID\n" {
		t.Errorf("on birth day: exit %d, stdout %q", code, out.String())
	}
}

func TestIDUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"check"},
		{"check", "91350200776049653A", "11010519491231002X"},
		{"check", "--bogus", "91350200776049653A"},
		{"check", "--legacy"},
		{"verify", "91350200776049653A"},
	} {
		r := runIDCommand(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage: creditchain id check") && !strings.Contains(r.stderr, "flag") {
			t.Errorf("id %q = %+v, want exit 2 with usage on stderr", args, r)
		}
	}
}

func TestIDCheckLegacyFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "legacy.txt")
	if err := os.WriteFile(good, []byte("# pilot codes\n91350200776049653B\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIDCommand(t, "check", "--legacy", good, "91350200776049653B")
	if r.code != 0 || r.stdout != "valid organization code (USCC)\n" ||
		r.stderr != "warning: legacy code accepted only through the allow-list (check character: expected 'A', got 'B')\n" {
		t.Errorf("allow-listed code: %+v", r)
	}
	// The list tolerates only the listed spelling; its neighbour stays invalid.
	if r := runIDCommand(t, "check", "--legacy", good, "91350200776049653C"); r.code != 1 {
		t.Errorf("unlisted code with the list: %+v, want exit 1", r)
	}
	// Without the list the pilot code is invalid: nothing is accepted silently.
	if r := runIDCommand(t, "check", "91350200776049653B"); r.code != 1 {
		t.Errorf("pilot code without the list: %+v, want exit 1", r)
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("91350200776049653B\n9135020077604965\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runIDCommand(t, "check", "--legacy", bad, "91350200776049653A"); r.code != 2 || !strings.Contains(r.stderr, "line 2") {
		t.Errorf("malformed legacy file: %+v, want exit 2 naming line 2", r)
	}
	if r := runIDCommand(t, "check", "--legacy", filepath.Join(dir, "missing.txt"), "91350200776049653A"); r.code != 2 {
		t.Errorf("missing legacy file: %+v, want exit 2", r)
	}
}

func TestIDHelp(t *testing.T) {
	if r := runIDCommand(t, "check", "-h"); r.code != 0 {
		t.Errorf("id check -h: %+v, want exit 0", r)
	}
	if r := runIDCommand(t, "help"); r.code != 0 || !strings.Contains(r.stdout, "usage: creditchain id check") {
		t.Errorf("id help: %+v", r)
	}
}
