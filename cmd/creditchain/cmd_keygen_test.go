package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

const testUSCC = "91350200776049653A"

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runCLI(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeygen(t *testing.T) {
	for _, alg := range []string{suite.Ed25519, suite.SM2} {
		t.Run(alg, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.json")
			code, out, errs := runCmd(t, "keygen", "--institution", testUSCC, "--alg", alg, "--out", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			kf, err := suite.LoadKeyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if kf.Alg != alg || kf.Institution != testUSCC || out != kf.KeyID+"\n" {
				t.Fatalf("key file %+v, stdout %q", kf, out)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v", st.Mode().Perm())
			}
			// No silent overwrite.
			if code, _, errs := runCmd(t, "keygen", "--institution", testUSCC, "--alg", alg, "--out", path); code != 1 || !strings.Contains(errs, "--force") {
				t.Fatalf("overwrite: exit %d %s", code, errs)
			}
			if code, _, errs := runCmd(t, "keygen", "--institution", testUSCC, "--alg", alg, "--out", path, "--force"); code != 0 {
				t.Fatalf("--force: exit %d %s", code, errs)
			}
			if again, _ := suite.LoadKeyFile(path); again.KeyID == kf.KeyID {
				t.Fatal("--force kept the old key")
			}
		})
	}
}

func TestKeygenDefaultsAndStdout(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	code, out, errs := runCmd(t, "keygen", "--institution", testUSCC)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	kf, err := suite.LoadKeyFile(filepath.Join(dir, testUSCC+".json"))
	if err != nil || kf.Alg != suite.Ed25519 || out != kf.KeyID+"\n" {
		t.Fatalf("%+v %v %q", kf, err, out)
	}

	code, out, errs = runCmd(t, "keygen", "--institution", testUSCC, "--alg", "sm2", "--out", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	path := filepath.Join(dir, "stdout.json")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	kf, err = suite.LoadKeyFile(path)
	if err != nil || errs != kf.KeyID+"\n" {
		t.Fatalf("%v, stderr %q", err, errs)
	}
}

func TestKeygenErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.json")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"keygen"}, 2, "usage"},
		{[]string{"keygen", "--alg", "sm2"}, 2, "usage"},
		{[]string{"keygen", "--institution", testUSCC, "--alg", "rsa", "--out", out}, 2, "unknown crypto suite"},
		{[]string{"keygen", "--institution", "91350200776049653B", "--out", out}, 1, "check character"},
		{[]string{"keygen", "--institution", testUSCC, "extra"}, 2, "usage"},
		{[]string{"keygen", "--bogus"}, 2, "bogus"},
	} {
		code, _, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, errs, c.code, c.msg)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed keygen wrote a key file")
	}
}
