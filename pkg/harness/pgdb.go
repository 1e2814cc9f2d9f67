package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the harness reacts to.
const (
	sqlDuplicateDatabase = "42P04"
	sqlObjectInUse       = "55006" // template still has sessions
	sqlUnknownDatabase   = "3D000"
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func (p *Postgres) exec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, p.adminURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// CreateDatabase creates database name, as a copy of template when template
// is set. Without a template an existing database is fine (so that a resumed
// dev cluster keeps its data); with one it is an error, since the copy would
// silently not happen.
func (p *Postgres) CreateDatabase(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + ident(name)
	if template != "" {
		sql += " TEMPLATE " + ident(p.physicalTemplate(template))
	}
	for {
		err := p.exec(ctx, sql)
		switch {
		case err == nil:
			return nil
		case sqlState(err) == sqlDuplicateDatabase && template == "":
			return nil
		case sqlState(err) == sqlObjectInUse:
			// A session on the template is on its way out: copying needs it
			// alone, so wait rather than fail.
			select {
			case <-ctx.Done():
				return fmt.Errorf("harness: create database %s: %w (%v)", name, err, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		default:
			return fmt.Errorf("harness: create database %s: %w", name, err)
		}
	}
}

// DropDatabase drops database name, disconnecting its sessions; a missing
// database is fine. Template databases are unmarked first (PostgreSQL refuses
// to drop them otherwise).
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	err := p.exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE false ALLOW_CONNECTIONS true")
	if err != nil && sqlState(err) != sqlUnknownDatabase {
		return fmt.Errorf("harness: drop database %s: %w", name, err)
	}
	if err := p.exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("harness: drop database %s: %w", name, err)
	}
	return nil
}

// template is one migrated template database of this process.
type template struct {
	mu       sync.Mutex
	physical string
	ready    bool
}

// TemplateDB builds template database name once per process by running
// migrate against a fresh database, then freezes it (no connections allowed)
// so that NewTestDatabase can clone it in milliseconds. Concurrent callers
// wait for the first; a failed build is retried by the next caller. It is
// rebuilt from scratch by each process so that it always reflects the
// current migrations. On an external server, which other test processes
// share, the database behind name is private to this process.
func (p *Postgres) TemplateDB(ctx context.Context, name string, migrate func(ctx context.Context, url string) error) error {
	p.mu.Lock()
	t, ok := p.templates[name]
	if !ok {
		t = &template{physical: name}
		if p.external != nil {
			t.physical = fmt.Sprintf("%s_%d_%s", name, os.Getpid(), randHex(3))
		}
		p.templates[name] = t
	}
	p.mu.Unlock()

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ready {
		return nil
	}
	if err := p.DropDatabase(ctx, t.physical); err != nil {
		return err
	}
	if err := p.CreateDatabase(ctx, t.physical, ""); err != nil {
		return err
	}
	if err := migrate(ctx, p.URL(t.physical)); err != nil {
		return fmt.Errorf("harness: migrate template %s: %w", name, err)
	}
	// Freeze first, then end sessions the migration left open (a pool not yet
	// closed): no new one can start, so cloning cannot be blocked later.
	if err := p.exec(ctx, "ALTER DATABASE "+ident(t.physical)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("harness: freeze template %s: %w", name, err)
	}
	if err := p.exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", t.physical); err != nil {
		return fmt.Errorf("harness: disconnect template %s: %w", name, err)
	}
	t.ready = true
	return nil
}

func (p *Postgres) physicalTemplate(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.templates[name]; ok {
		return t.physical
	}
	return name
}

// dropTemplates removes this process's templates from an external server.
func (p *Postgres) dropTemplates() error {
	p.mu.Lock()
	names := make([]string, 0, len(p.templates))
	for _, t := range p.templates {
		names = append(names, t.physical)
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, n := range names {
		errs = append(errs, p.DropDatabase(ctx, n))
	}
	return errors.Join(errs...)
}

// NewTestDatabase returns the URL of a new database cloned from template
// (see TemplateDB; "" for an empty database), dropped when the test ends.
func NewTestDatabase(t testing.TB, p *Postgres, template string) string {
	t.Helper()
	name := testDBName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.CreateDatabase(ctx, name, template); err != nil {
		t.Fatalf("harness: new test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.DropDatabase(ctx, name); err != nil {
			t.Errorf("harness: drop test database: %v", err)
		}
	})
	return p.URL(name)
}

// testDBName makes a database name that says which test it belongs to (for
// whoever inspects a server mid-run) and never collides: PostgreSQL names are
// at most 63 bytes, and the random suffix keeps parallel tests apart.
func testDBName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 44 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(randHex(8))
	return b.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
