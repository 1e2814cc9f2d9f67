package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/suite"
)

// importFixture writes a network.json naming a court that records
// court-defaulter, and the court's key file. A dry run needs no network:
// nothing is sent.
func importFixture(t *testing.T) (dir, network, key string) {
	t.Helper()
	dir = t.TempDir()
	s, _ := suite.ByName(suite.Ed25519)
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const courtID = "11350200D00000021P"
	key = filepath.Join(dir, "court.json")
	if err := suite.NewKeyFile(courtID, k).Save(key); err != nil {
		t.Fatal(err)
	}
	nf, _ := json.Marshal(map[string]any{"chain_id": "creditchain-test", "crypto_suite": "ed25519",
		"intake_url": "http://127.0.0.1:1", "institutions": []map[string]any{
			{"id": courtID, "name": "厦门市中级人民法院", "roles": []string{"recorder"}, "categories": []string{"court-defaulter"}}}})
	network = filepath.Join(dir, "network.json")
	if err := os.WriteFile(network, nf, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, network, key
}

func TestImportDryRun(t *testing.T) {
	dir, network, key := importFixture(t)
	list := "统一社会信用代码,名称,失信类别,案号,决定日期,期限,法律依据\n" +
		"91350200776049653A,厦门某某有限公司,失信被执行人,(2026)闽02执1号,2026/1/5,2年,某规定第一条\n" +
		"91350200776049653B,厦门某某有限公司,失信被执行人,(2026)闽02执2号,2026/1/5,2年,某规定第一条\n" +
		"91350200776049653A,厦门某某有限公司,严重失信,(2026)闽02执3号,2026/1/5,,某规定第一条\n"
	file := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	// Flags after FILE, as the usage line writes them.
	code := runImport([]string{file, "--key", key, "--network", network, "--dry-run"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("dry run over bad rows: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"3 rows, 1 valid, 2 invalid", "line 3 [统一社会信用代码]", "line 4 [失信类别]", "line 4 [期限]", "dry run: nothing submitted"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	report, err := os.ReadFile(file + ".report.csv")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(report), "\n"); n != 4 {
		t.Errorf("report has %d lines, want a header and 3 problems:\n%s", n, report)
	}
	if _, err := os.Stat(file + ".import-state"); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote a state file (%v)", err)
	}
	// With --skip-invalid a dry run over the same file succeeds.
	stdout.Reset()
	if code := runImport([]string{"--dry-run", "--skip-invalid", "--key", key, "--network", network, file}, &stdout, &stderr); code != 0 {
		t.Errorf("dry run with --skip-invalid: exit %d\n%s", code, stdout.String())
	}
}

func TestImportExportUsage(t *testing.T) {
	_, network, key := importFixture(t)
	cases := []struct {
		run  func([]string, *bytes.Buffer, *bytes.Buffer) int
		args []string
		want int
	}{
		{runImportB, []string{}, 2},
		{runImportB, []string{"a.csv", "--key", key}, 2},
		{runImportB, []string{"a.csv", "b.csv", "--key", key, "--network", network}, 2},
		{runImportB, []string{"--bogus"}, 2},
		{runImportB, []string{"--help"}, 0},
		{runImportB, []string{"missing.csv", "--key", key, "--network", network}, 1},
		{runImportB, []string{"a.csv", "--key", key, "--network", "/nonexistent/network.json"}, 1},
		{runExportB, []string{}, 2},
		{runExportB, []string{"--database", "postgres://x", "--format", "xml"}, 2},
		{runExportB, []string{"--database", "postgres://x", "--status", "some"}, 2},
		{runExportB, []string{"--database", "postgres://x", "extra"}, 2},
		{runExportB, []string{"--help"}, 0},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		if got := c.run(c.args, &stdout, &stderr); got != c.want {
			t.Errorf("%q: exit %d, want %d\n%s", c.args, got, c.want, stderr.String())
		}
	}
}

func runImportB(args []string, o, e *bytes.Buffer) int { return runImport(args, o, e) }
func runExportB(args []string, o, e *bytes.Buffer) int { return runExport(args, o, e) }
