package membercmd

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

func run(args ...string) (int, string, string) {
	var out, errs bytes.Buffer
	code := Run(args, &out, &errs)
	return code, out.String(), errs.String()
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown subcommand"},
		{[]string{"help"}, 0, ""},
		{[]string{"remove", "--network", "n.json", "--key", "k.json"}, 2, "--id is required"},
		{[]string{"add", "--network", "n.json", "--key", "k.json", "--id", "X", "--name", "N"}, 2, "--kind is required"},
		{[]string{"list"}, 2, "is required"},
		{[]string{"list", "extra"}, 2, "unexpected argument"},
		{[]string{"suspend", "--network", "/nonexistent/network.json", "--key", "k.json", "--id", "X"}, 1, "--network"},
	}
	for _, c := range cases {
		code, _, errs := run(c.args...)
		if code != c.want || !strings.Contains(errs, c.msg) {
			t.Errorf("member %s: exit %d (%q), want %d containing %q", strings.Join(c.args, " "), code, errs, c.want, c.msg)
		}
	}
}

// TestReadPublicKey takes only the public part of a keygen key file and
// refuses a key of another institution or with a key id that does not
// match.
func TestReadPublicKey(t *testing.T) {
	s, _ := suite.ByName(suite.Ed25519)
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const id = "91350200776049653A"
	kf := suite.NewKeyFile(id, k)
	dir := t.TempDir()
	path := filepath.Join(dir, "key.json")
	if err := kf.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := readPublicKey(path, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != kf.KeyID || !bytes.Equal(got.Public, kf.Public) || got.Alg != kf.Alg {
		t.Fatalf("read %+v, want the key file's public key %s", got, kf.KeyID)
	}
	if _, err := readPublicKey(path, "91350200MA2XXXXX1X"); err == nil || !strings.Contains(err.Error(), "not of") {
		t.Fatalf("a key file of another institution: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(bad, bytes.Replace(raw, []byte(kf.KeyID), []byte("0000000000000000"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readPublicKey(bad, id); err == nil || !strings.Contains(err.Error(), "key_id") {
		t.Fatalf("a key file with a wrong key id: %v", err)
	}
}

func TestSplitList(t *testing.T) {
	if got := splitList(" recorder, submitter,,"); strings.Join(got, "|") != "recorder|submitter" {
		t.Fatalf("splitList: %q", got)
	}
	if got := splitList(""); got == nil || len(got) != 0 {
		t.Fatalf("splitList of nothing: %#v, want an empty list", got)
	}
}
