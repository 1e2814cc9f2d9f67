package apikeycmd

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsageErrors checks every refusal that needs no database: they exit 2
// and say what is wrong, before any connection is attempted.
func TestUsageErrors(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	cases := []struct {
		args []string
		want string
	}{
		{nil, "usage:"},
		{[]string{"rotate"}, "unknown subcommand"},
		{[]string{"create", "--name", "x"}, "--database"},
		{[]string{"create", "--database", "postgres://nowhere/db"}, "--name is required"},
		{[]string{"revoke", "--database", "postgres://nowhere/db"}, "exactly one KEY_ID"},
		{[]string{"revoke", "--database", "postgres://nowhere/db", "a", "b"}, "exactly one KEY_ID"},
		{[]string{"list", "--database", "postgres://nowhere/db", "extra"}, "unexpected argument"},
		{[]string{"create", "--per-minute", "many"}, "invalid value"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := Run(c.args, &out, &errb); code != 2 {
			t.Errorf("apikey %v: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("apikey %v: stderr %q, want %q", c.args, errb.String(), c.want)
		}
		if out.Len() != 0 {
			t.Errorf("apikey %v wrote to stdout: %q", c.args, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "apikey create") {
		t.Errorf("help: exit %d, %q", code, out.String())
	}
}
