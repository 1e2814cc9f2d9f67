package devnet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/svc"
)

func TestFreePortBelowEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	for range 20 {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if lo > 21000 && (p < 20000 || p >= lo) {
			t.Fatalf("port %d: want one in [20000, %d)", p, lo)
		}
		if !portFree(p) {
			t.Fatalf("port %d is not free", p)
		}
	}
}

func TestListenPort(t *testing.T) {
	for args, want := range map[string]int{
		"--genesis g --listen 127.0.0.1:23456 --x": 23456,
		"--listen":                      0,
		"--genesis g":                   0,
		"--listen not-an-address":       0,
		"--database u --listen [::1]:9": 9,
	} {
		if got := listenPort(strings.Fields(args)); got != want {
			t.Errorf("listenPort(%q) = %d, want %d", args, got, want)
		}
	}
}

func TestPortBookForget(t *testing.T) {
	b, err := loadPortBook(filepath.Join(t.TempDir(), "ports.json"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := b.get("query/x", -1)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := b.get("query/x", -1); again != first {
		t.Fatalf("second get: %d, want the same port %d", again, first)
	}
	b.forget("query/x")
	if _, ok := b.now["query/x"]; ok {
		t.Fatal("forgotten port still chosen")
	}
	if _, ok := b.file["query/x"]; ok {
		t.Fatal("forgotten port still remembered")
	}
}

// startedProc is a proc for a real child process that does nothing.
func startedProc(t *testing.T, s *Supervisor, sp procSpec, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{spec: sp, cmd: cmd, done: make(chan struct{}), started: time.Now(), token: "ours"}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	s.procs[sp.key()] = p
	return p
}

func TestWaitReadyWantsItsOwnProcess(t *testing.T) {
	s := &Supervisor{logDir: t.TempDir(), procs: map[string]*proc{}}
	token := "ours"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(svc.ProcessTokenHeader, token)
	}))
	defer srv.Close()
	sp := procSpec{Name: ProcQuery, Institution: "X", Ready: srv.URL + "/readyz"}
	startedProc(t, s, sp, "sleep", "30")
	if err := s.waitReady(context.Background(), sp, 5*time.Second); err != nil {
		t.Fatalf("our own process: %v", err)
	}
	token = "another program's"
	err := s.waitReady(context.Background(), sp, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("a foreign answer on the port: err %v, want one naming another program", err)
	}
}

func TestWaitReadyFailsOnceItExits(t *testing.T) {
	s := &Supervisor{logDir: t.TempDir(), procs: map[string]*proc{}}
	sp := procSpec{Name: ProcQuery, Institution: "X", Ready: "http://127.0.0.1:1/readyz"}
	if err := os.WriteFile(filepath.Join(s.logDir, sp.logName()), []byte("listen tcp: address already in use\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	startedProc(t, s, sp, "true")
	began := time.Now()
	err := s.waitReady(context.Background(), sp, time.Minute)
	if !errors.Is(err, errExited) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err %v: want errExited with the log's last lines", err)
	}
	if d := time.Since(began); d > 30*time.Second {
		t.Fatalf("took %s to notice the exit", d)
	}
}

// TestWaitStartedRestartsAnEarlyExit: a process that exits while starting
// is started again, and the start succeeds once one answers with its token.
func TestWaitStartedRestartsAnEarlyExit(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "fake-creditchain")
	script := `#!/bin/sh
n=$(cat "` + dir + `/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "` + dir + `/count"
if [ $n -lt 3 ]; then echo "start $n fails"; exit 1; fi
echo "$` + svc.ProcessTokenEnv + `" > "` + dir + `/token"
exec sleep 30
`
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		token, _ := os.ReadFile(filepath.Join(dir, "token"))
		w.Header().Set(svc.ProcessTokenHeader, strings.TrimSpace(string(token)))
	}))
	defer srv.Close()
	s := &Supervisor{exe: exe, logDir: dir, procs: map[string]*proc{}, restarts: map[string]int{},
		opts: MultiOptions{Options: Options{Dir: dir}}}
	s.opts.Options = s.opts.Options.withDefaults()
	sp := procSpec{Name: ProcQuery, Institution: "X", Ready: srv.URL + "/readyz"}
	if err := s.start(sp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcs([]*proc{s.procs[sp.key()]}, time.Second) })
	if err := s.waitStarted(context.Background(), sp); err != nil {
		t.Fatalf("third start answers: %v", err)
	}
	if n := s.Restarts()[sp.key()]; n != 2 {
		t.Fatalf("restarts %d, want 2", n)
	}
	log, _ := os.ReadFile(filepath.Join(dir, sp.logName()))
	if !strings.Contains(string(log), "start 2 fails") {
		t.Fatalf("log %q: want both failed starts", log)
	}
}
