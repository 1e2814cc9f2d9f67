package harness

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func pgConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestPostgresTemplateClonesAreIndependent(t *testing.T) {
	env := Shared(t)
	ctx := context.Background()
	migrations := 0
	migrate := func(ctx context.Context, url string) error {
		migrations++
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		// Left open on purpose: TemplateDB must cope with a migration that
		// does not close its sessions.
		_, err = conn.Exec(ctx, `CREATE TABLE institution (id text PRIMARY KEY, name text NOT NULL);
			INSERT INTO institution VALUES ('91350100M000100Y43', '福州市中级人民法院')`)
		return err
	}
	for i := 0; i < 2; i++ {
		if err := env.PG.TemplateDB(ctx, "harness_tmpl", migrate); err != nil {
			t.Fatal(err)
		}
	}
	if migrations != 1 {
		t.Fatalf("template migrated %d times, want once per process", migrations)
	}

	a := pgConnect(t, NewTestDatabase(t, env.PG, "harness_tmpl"))
	b := pgConnect(t, NewTestDatabase(t, env.PG, "harness_tmpl"))
	var name string
	if err := a.QueryRow(ctx, `SELECT name FROM institution WHERE id = $1`, "91350100M000100Y43").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "福州市中级人民法院" {
		t.Fatalf("cloned row name = %q", name)
	}
	if _, err := a.Exec(ctx, `INSERT INTO institution VALUES ('x', 'only in a')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, `SELECT count(*) FROM institution`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("database b sees %d rows, want 1: clones share state", n)
	}
	var dbA, dbB string
	a.QueryRow(ctx, `SELECT current_database()`).Scan(&dbA)
	b.QueryRow(ctx, `SELECT current_database()`).Scan(&dbB)
	if dbA == dbB || !strings.HasPrefix(dbA, "t_testpostgrestemplate") {
		t.Fatalf("test databases %q and %q: want distinct names derived from the test", dbA, dbB)
	}
}

func TestNewTestDatabaseIsDroppedAtCleanup(t *testing.T) {
	env := Shared(t)
	var url string
	t.Run("inner", func(t *testing.T) {
		url = NewTestDatabase(t, env.PG, "")
		pgConnect(t, url) // closed by the inner cleanup, before the drop runs
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("database %s still exists after its test ended", url)
	}
	if sqlState(err) != sqlUnknownDatabase {
		t.Fatalf("connect to dropped database: %v, want SQLSTATE %s", err, sqlUnknownDatabase)
	}
}

func TestCreateDatabaseIdempotentWithoutTemplate(t *testing.T) {
	env := Shared(t)
	ctx := context.Background()
	name := testDBName(t.Name())
	t.Cleanup(func() { env.PG.DropDatabase(context.Background(), name) })
	for i := 0; i < 2; i++ {
		if err := env.PG.CreateDatabase(ctx, name, ""); err != nil {
			t.Fatalf("create #%d: %v", i+1, err)
		}
	}
	if err := env.PG.CreateDatabase(ctx, name, "template1"); err == nil {
		t.Fatal("creating an existing database from a template succeeded; the copy would silently not happen")
	}
	if err := env.PG.DropDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := env.PG.DropDatabase(ctx, name); err != nil {
		t.Fatalf("dropping a missing database: %v", err)
	}
}

// A killed cluster comes back on the same port with every committed row, and
// a stopped temporary cluster leaves neither process nor directory behind.
func TestPostgresKillRestartStop(t *testing.T) {
	ctx := context.Background()
	pg, err := StartPostgres(ctx, PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			pg.Stop()
		}
	})
	url, port, dir := pg.URL("postgres"), pg.Port(), pg.DataDir()
	conn := pgConnect(t, url)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (v int); INSERT INTO t VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	pid := pg.PID()
	assertPostmasterUser(t, pid)
	workers := childrenOf(pid)
	if len(workers) == 0 {
		t.Fatalf("postmaster %d has no workers to check", pid)
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Fatalf("postmaster %d alive after Kill", pid)
	}
	for _, w := range workers {
		if running(w) {
			t.Fatalf("worker %d of killed postmaster %d still running", w, pid)
		}
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("session survived Kill")
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if pg.Port() != port || pg.URL("postgres") != url {
		t.Fatalf("restart moved the server from port %d to %d", port, pg.Port())
	}
	var v int
	if err := pgConnect(t, url).QueryRow(ctx, `SELECT v FROM t`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("after crash recovery: v=%d err=%v, want 42", v, err)
	}
	if err := pg.Start(ctx); err == nil {
		t.Fatal("second Start of a running cluster succeeded")
	}

	pid = pg.PID()
	stopped = true
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) || pg.PID() != 0 {
		t.Fatalf("postmaster %d alive after Stop", pid)
	}
	if kids := childrenOf(pid); len(kids) > 0 {
		t.Fatalf("postmaster %d left workers %v", pid, kids)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary cluster %s not removed: %v", dir, err)
	}
}

func TestTestDBName(t *testing.T) {
	long := strings.Repeat("TestVeryLong/子测试 name-", 10)
	a, b := testDBName(long), testDBName(long)
	if a == b {
		t.Fatal("two names for one test collide")
	}
	if len(a) > 63 {
		t.Fatalf("name %q is %d bytes, PostgreSQL keeps 63", a, len(a))
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("name %q has %q", a, r)
		}
	}
}

// PostgreSQL refuses to run as root, so as root the harness must have
// switched to the postgres account; otherwise it runs as us.
func assertPostmasterUser(t *testing.T, pid int) {
	t.Helper()
	st, err := os.Stat("/proc/" + strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := int(st.Sys().(*syscall.Stat_t).Uid)
	want := os.Geteuid()
	if want == 0 {
		u, err := lookupPGUser()
		if err != nil {
			t.Fatal(err)
		}
		want = u.uid
	}
	if uid != want {
		t.Fatalf("postmaster runs as uid %d, want %d", uid, want)
	}
}
