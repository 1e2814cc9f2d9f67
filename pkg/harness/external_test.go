package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// With external servers nothing is started or stopped, and templates are
// private to the process, since other test binaries share the server.
func TestExternalServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	own, err := Start(ctx, Options{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() }) // after the test database cleanups

	t.Setenv(EnvDatabaseURL, "")
	t.Setenv(EnvDatabaseURLv2, own.PG.URL("postgres"))
	t.Setenv(EnvNATSURL, own.NATS.URL())
	t.Setenv(EnvEtcdEndpoints, " "+own.Etcd.Endpoints()[0]+" ,")
	ext, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !ext.PG.External() || !ext.NATS.External() || !ext.Etcd.External() {
		t.Fatal("environment variables did not select the external servers")
	}
	if ext.NATS.URL() != own.NATS.URL() || strings.Join(ext.Etcd.Endpoints(), ",") != own.Etcd.Endpoints()[0] {
		t.Fatalf("external URLs %s %v", ext.NATS.URL(), ext.Etcd.Endpoints())
	}
	if err := ext.PG.Kill(); err == nil {
		t.Fatal("Kill of an external server succeeded")
	}
	if err := ext.NATS.Restart(); err == nil {
		t.Fatal("Restart of an external server succeeded")
	}

	migrate := func(ctx context.Context, url string) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE marker (v int); INSERT INTO marker VALUES (1)")
		return err
	}
	if err := ext.PG.TemplateDB(ctx, "shared_tmpl", migrate); err != nil {
		t.Fatal(err)
	}
	physical := ext.PG.physicalTemplate("shared_tmpl")
	if physical == "shared_tmpl" {
		t.Fatal("template on an external server is not private to the process")
	}
	var n int
	url := NewTestDatabase(t, ext.PG, "shared_tmpl")
	if !strings.HasPrefix(url, strings.TrimSuffix(own.PG.URL(""), "?sslmode=disable")) {
		t.Fatalf("test database URL %s is not on the external server", url)
	}
	conn := pgConnect(t, url)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM marker").Scan(&n); err != nil || n != 1 {
		t.Fatalf("clone of external template: %d, %v", n, err)
	}

	if err := ext.Close(); err != nil {
		t.Fatal(err)
	}
	assertAllAnswer(t, own) // closing the external Env stopped nothing
	var exists bool
	admin := pgConnect(t, own.PG.URL("postgres"))
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", physical).Scan(&exists); err != nil || exists {
		t.Fatalf("template %s left on the external server (exists=%v, err=%v)", physical, exists, err)
	}
}
