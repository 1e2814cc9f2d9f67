package devnet

import (
	"context"
	"errors"
	"fmt"
	"net"
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
		p, err := freePort(func(int) bool { return false })
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

// TestPortBookGivesEachProcessItsOwnPort: ports handed out but not yet
// bound look free; the book must not hand them out twice (400 draws from
// the range below the ephemeral one collide almost surely).
func TestPortBookGivesEachProcessItsOwnPort(t *testing.T) {
	b, err := loadPortBook(filepath.Join(t.TempDir(), "ports.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for i := range 400 {
		key := fmt.Sprintf("query/%d", i)
		p, err := b.get(key, -1)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[p]; dup {
			t.Fatalf("port %d given to %s and %s", p, other, key)
		}
		seen[p] = key
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
	script := `#!/bin/sh
n=$(cat "` + dir + `/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "` + dir + `/count"
if [ $n -lt 3 ]; then echo "start $n fails"; exit 1; fi
echo "$` + svc.ProcessTokenEnv + `" > "` + dir + `/token"
exec sleep 30
`
	s, srv := fakeChild(t, dir, script, func() bool { return true })
	sp := procSpec{Name: ProcQuery, Institution: "X", Ready: srv.URL + "/readyz"}
	if err := s.start(sp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcs([]*proc{s.procs[sp.key()]}, time.Second) })
	if err := s.waitStarted(context.Background(), sp, nil); err != nil {
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

// TestWaitStartedMovesOffATakenPort: a process that dies because another
// program holds its port is started again on another port, not on the
// same one three times.
func TestWaitStartedMovesOffATakenPort(t *testing.T) {
	dir := t.TempDir()
	// Serves nothing; exits at once when its --listen port is the taken one.
	// moved-to appears whole (mv), as readiness answers once it exists.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenAddr := taken.Addr().String()
	script := `#!/bin/sh
echo "$` + svc.ProcessTokenEnv + `" > "` + dir + `/token"
if [ "$4" = "` + takenAddr + `" ]; then echo "listen tcp $4: bind: address already in use"; exit 1; fi
echo "$4" > "` + dir + `/moved-to.tmp" && mv "` + dir + `/moved-to.tmp" "` + dir + `/moved-to"
exec sleep 30
`
	s, srv := fakeChild(t, dir, script, func() bool {
		_, err := os.Stat(filepath.Join(dir, "moved-to"))
		return err == nil
	})
	if s.ports, err = loadPortBook(filepath.Join(dir, "ports.json")); err != nil {
		t.Fatal(err)
	}
	spec := func(listen string) procSpec {
		return procSpec{Name: ProcQuery, Institution: "X", Ready: srv.URL + "/readyz", Args: []string{"--listen", listen}}
	}
	respecs := 0
	respec := func(_ context.Context, key string) (procSpec, bool) {
		respecs++
		p, err := s.ports.get(key, -1)
		if err != nil {
			t.Error(err)
			return procSpec{}, false
		}
		return spec(fmt.Sprintf("127.0.0.1:%d", p)), true
	}
	sp := spec(takenAddr)
	if err := s.start(sp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcs([]*proc{s.procs[sp.key()]}, time.Second) })
	if err := s.waitStarted(context.Background(), sp, respec); err != nil {
		t.Fatalf("start after moving: %v", err)
	}
	moved, _ := os.ReadFile(filepath.Join(dir, "moved-to"))
	if respecs != 1 || strings.TrimSpace(string(moved)) == takenAddr || len(moved) == 0 {
		t.Fatalf("respecs %d, running on %q: want one move off %s", respecs, moved, takenAddr)
	}
}

// fakeChild is a supervisor whose children run script, and a readiness
// server that answers with the token the child wrote to dir/token once
// ready() holds.
func fakeChild(t *testing.T, dir, script string, ready func() bool) (*Supervisor, *httptest.Server) {
	t.Helper()
	exe := filepath.Join(dir, "fake-creditchain")
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		token, _ := os.ReadFile(filepath.Join(dir, "token"))
		w.Header().Set(svc.ProcessTokenHeader, strings.TrimSpace(string(token)))
	}))
	t.Cleanup(srv.Close)
	s := &Supervisor{exe: exe, logDir: dir, procs: map[string]*proc{}, restarts: map[string]int{},
		opts: MultiOptions{Options: Options{Dir: dir}}}
	s.opts.Options = s.opts.Options.withDefaults()
	return s, srv
}
