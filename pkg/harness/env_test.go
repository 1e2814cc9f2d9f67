package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
)

// TestStartTime is the figure the rest of the project's tests pay once per
// test binary; it must stay well under 10 s on a 2-core machine.
func TestStartTimeAndCleanClose(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	reported := map[string]string{}
	env, err := Start(ctx, Options{IgnoreEnv: true, Progress: func(server, address string) {
		reported[server] = address // unsynchronized on purpose: -race checks the calls never overlap
	}})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"postgres": env.PG.URL("postgres"), "nats": env.NATS.URL(), "etcd": env.Etcd.Endpoints()[0]}
	if fmt.Sprint(reported) != fmt.Sprint(want) {
		t.Fatalf("progress reported %v, want %v", reported, want)
	}
	t.Logf("Start (PostgreSQL initdb + start, NATS JetStream, etcd) took %v", took.Round(time.Millisecond))
	if took > 10*time.Second {
		env.Close()
		t.Fatalf("Start took %v, budget 10s", took)
	}
	assertAllAnswer(t, env)

	pid, dir := env.PG.PID(), env.Dir
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if running(pid) {
		t.Fatalf("postmaster %d still running after Close", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary dir %s left after Close: %v", dir, err)
	}
}

// assertAllAnswer checks each server through its real client.
func assertAllAnswer(t *testing.T, env *Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, env.PG.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	conn.Close(ctx)
	if err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	js := jsConnect(t, env.NATS.URL())
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("JetStream account info: %v", err)
	}
	cli, err := env.Etcd.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Get(ctx, "/"); err != nil {
		t.Fatalf("etcd get: %v", err)
	}
}

// A persistent Dir comes back with its ports and with every server's data.
func TestPersistentDirResumes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "dev")
	env, err := Start(ctx, Options{Dir: dir, IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := loadPorts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Postgres != env.PG.Port() || first.NATS != env.NATS.Port() || first.EtcdClient != env.Etcd.ClientPort() || first.EtcdPeer == 0 {
		t.Fatalf("ports.json %+v does not match the servers", first)
	}

	if err := env.PG.CreateDatabase(ctx, "institution_a", ""); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, env.PG.URL("institution_a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE block (height bigint PRIMARY KEY); INSERT INTO block VALUES (7)")
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	js := jsConnect(t, env.NATS.URL())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TXS", Subjects: []string{"txs"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "txs", []byte("tx")); err != nil {
		t.Fatal(err)
	}
	cli, err := env.Etcd.Client()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Put(ctx, "/chain/id", "dev-chain")
	cli.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "PG_VERSION")); err != nil {
		t.Fatalf("persistent cluster removed by Close: %v", err)
	}

	env, err = Start(ctx, Options{Dir: dir, IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	again, _ := loadPorts(dir)
	if again != first {
		t.Fatalf("ports moved from %+v to %+v although they were free", first, again)
	}
	if err := env.PG.CreateDatabase(ctx, "institution_a", ""); err != nil {
		t.Fatalf("CreateDatabase of a resumed database: %v", err)
	}
	conn, err = pgx.Connect(ctx, env.PG.URL("institution_a"))
	if err != nil {
		t.Fatal(err)
	}
	var h int64
	err = conn.QueryRow(ctx, "SELECT height FROM block").Scan(&h)
	conn.Close(ctx)
	if err != nil || h != 7 {
		t.Fatalf("resumed row: %d, %v", h, err)
	}
	js = jsConnect(t, env.NATS.URL())
	s, err := js.Stream(ctx, "TXS")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.State.Msgs != 1 {
		t.Fatalf("resumed stream: %+v, %v", info, err)
	}
	cli, err = env.Etcd.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	got, err := cli.Get(ctx, "/chain/id")
	if err != nil || got.Count != 1 || string(got.Kvs[0].Value) != "dev-chain" {
		t.Fatalf("resumed etcd key: %+v, %v", got, err)
	}
}

func TestSweepStaleRemovesOnlyDeadOwners(t *testing.T) {
	// A pid that surely belonged to a process that has exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	deadDir := filepath.Join(os.TempDir(), fmt.Sprintf("ccenv-%d-test%s", dead, randHex(4)))
	liveDir, err := makeTemp("env")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(liveDir); os.RemoveAll(deadDir) })
	if err := os.MkdirAll(filepath.Join(deadDir, "postgres"), 0o700); err != nil {
		t.Fatal(err)
	}
	sweepStale()
	if _, err := os.Stat(deadDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dead process %d's dir survived the sweep: %v", dead, err)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Fatalf("our own dir (pid %s) swept: %v", strconv.Itoa(os.Getpid()), err)
	}
}
