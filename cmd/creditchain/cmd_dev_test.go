package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// devOutput is stdout shared between the dev command and the test reading it.
type devOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *devOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *devOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func TestDevStartsServersAndStopsCleanly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr devOutput
	exit := make(chan int, 1)
	go func() { exit <- runDev(ctx, []string{"--data", dir}, &stdout, &stderr) }()

	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "running") {
		select {
		case code := <-exit:
			t.Fatalf("dev exited with %d before running:\n%s\n%s", code, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-exit
			t.Fatalf("dev not running after a minute:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	addr := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			addr[f[0]] = f[1]
		}
	}
	if addr["postgres"] == "" || addr["nats"] == "" || addr["etcd"] == "" {
		t.Fatalf("dev did not print every server:\n%s", stdout.String())
	}

	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	conn, err := pgx.Connect(rctx, addr["postgres"])
	if err != nil {
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(rctx, "SELECT 1").Scan(&one)
	conn.Close(rctx)
	if err != nil || one != 1 {
		t.Fatalf("postgres SELECT 1 = %d, %v", one, err)
	}
	// NATS runs with authorization (docs/membership.md): anonymous clients
	// are refused; network.json carries the operator's credentials.
	if nc, err := nats.Connect(addr["nats"]); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to dev's NATS")
	}
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(filepath.Join(dir, "network.json"))
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(nf.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = js.AccountInfo(rctx)
	nc.Close()
	if err != nil {
		t.Fatalf("JetStream: %v", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{addr["etcd"]}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Put(rctx, "/dev-test", "ok")
	cli.Close()
	if err != nil {
		t.Fatalf("etcd put: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "servers", "ports.json")); err != nil {
		t.Fatalf("persistent --data dir has no ports.json: %v", err)
	}
	if len(processesMentioning(dir)) == 0 {
		t.Fatalf("no running process names %s: the orphan check below would prove nothing", dir)
	}

	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("dev exited with %d:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not stop within a minute of cancellation")
	}
	if !strings.Contains(stdout.String(), "stopped") {
		t.Fatalf("dev did not report stopping:\n%s", stdout.String())
	}
	if pids := processesMentioning(dir); len(pids) > 0 {
		t.Fatalf("processes still running on %s after dev stopped: %v", dir, pids)
	}
	if _, err := os.Stat(filepath.Join(dir, "servers", "postgres", "PG_VERSION")); err != nil {
		t.Fatalf("--data cluster not kept: %v", err)
	}
}

// processesMentioning lists live processes whose command line names path, as
// every PostgreSQL process of a cluster in path does (postgres -D path/...).
// Its workers rename themselves, so they are found through their parent.
func processesMentioning(path string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(path)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
			continue // exited, waiting to be reaped
		}
		found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return found
}

func TestDevUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"--no-such-flag"}} {
		var stdout, stderr devOutput
		if code := runDev(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("dev %v: exit %d, want 2", args, code)
		}
		if stderr.String() == "" {
			t.Errorf("dev %v: no explanation on stderr", args)
		}
	}
	var stdout, stderr devOutput
	if code := runDev(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-data DIR") {
		t.Errorf("dev -h: exit %d, usage %q", code, stderr.String())
	}
}

func TestDevWithoutDataUsesTemporaryDir(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr devOutput
	exit := make(chan int, 1)
	go func() { exit <- runDev(ctx, nil, &stdout, &stderr) }()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "running") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := stdout.String()
	var dir string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "creditchain dev: data in "); ok {
			dir, _, _ = strings.Cut(rest, " (temporary")
		}
	}
	if dir == "" || !strings.Contains(out, "running") {
		cancel()
		<-exit
		t.Fatalf("dev without --data:\n%s\n%s", out, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "servers", "postgres", "PG_VERSION")); err != nil {
		t.Fatalf("servers not in the announced directory %s: %v", dir, err)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("dev exited with %d:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("temporary directory %s left behind: %v", dir, err)
	}
	if pids := processesMentioning(dir); len(pids) > 0 {
		t.Fatalf("processes still running on %s: %v", dir, pids)
	}
}
