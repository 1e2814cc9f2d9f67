package natsusers

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/creditchain/creditchain/pkg/natsauth"
	"github.com/creditchain/creditchain/services/replicator"
)

// TestNamesMatchTheReplicator: a replica user's permissions name its
// durable consumer and inbox, which the replicator names itself.
func TestNamesMatchTheReplicator(t *testing.T) {
	for _, id := range []string{court, bank} {
		if natsauth.ReplicaUser(id) != replicator.ConsumerName(id) || natsauth.ReplicaInboxPrefix(id) != replicator.InboxPrefix(id) {
			t.Fatalf("%s: user %s inbox %s, replicator consumer %s inbox %s", id, natsauth.ReplicaUser(id),
				natsauth.ReplicaInboxPrefix(id), replicator.ConsumerName(id), replicator.InboxPrefix(id))
		}
	}
}

// TestPasswordsMustBeURLSafe: services carry their password in a URL, so
// one that a URL would mangle (a trailing newline from a file, a '@') is
// refused, and that user gets no access rather than one nobody can use.
func TestPasswordsMustBeURLSafe(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"good": "Abc-0._~xyz", "newline": "secret\n", "at": "se@cret"}
	for name, pw := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pw), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, bad := readPasswords(dir, []natsauth.User{{Name: "good"}, {Name: "newline"}, {Name: "at"}, {Name: "absent"}})
	if len(got) != 1 || got["good"] != files["good"] {
		t.Errorf("passwords read: %v", got)
	}
	if len(bad) != 2 {
		t.Errorf("refused %v, want newline and at", bad)
	}
}

// TestReloadRefusesAStalePid: a pid file that names no server (missing,
// init, ourselves) is an error, never a signal to the wrong process.
func TestReloadRefusesAStalePid(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if err := Reload(ctx, filepath.Join(dir, "absent.pid"), ""); err == nil {
		t.Error("reloaded without a pid file")
	}
	for _, pid := range []string{"1", strconv.Itoa(os.Getpid()), "not a pid"} {
		p := filepath.Join(dir, "nats.pid")
		if err := os.WriteFile(p, []byte(pid+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Reload(ctx, p, ""); err == nil {
			t.Errorf("signalled pid %q", pid)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--passwords", "p", "--out", "o"}, {"--once", "extra"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("nats-users %v: exit %d, want 2", args, code)
		}
	}
	t.Setenv("CREDITCHAIN_INTERVAL", "often")
	if code := run(context.Background(), []string{"--passwords", "p", "--out", "o", "--once"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("a malformed CREDITCHAIN_INTERVAL: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--help"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}
