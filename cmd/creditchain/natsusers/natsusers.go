// Package natsusers is `creditchain nats-users`: it keeps a NATS server's
// users file in step with the membership in etcd, so that a suspended or
// removed institution loses its NATS access (DESIGN 6, docs/membership.md).
//
// It runs beside each NATS server of the Helm chart (an init container
// writes the file before the server starts, a sidecar follows etcd after).
// Every interval it reads the current epoch from etcd, renders the users
// that epoch entitles with pkg/natsauth (passwords from a directory with a
// file per user, a mounted Secret), and when the file changes it replaces
// it atomically and sends the server SIGHUP. The server re-reads its
// configuration and closes the connections of users that are gone, so a
// revocation takes at most one interval plus the reload. A reload counts
// only once the server's /varz shows a newer config_load_time; until then
// it is retried every interval.
package natsusers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/natsauth"
	"github.com/creditchain/creditchain/pkg/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultInterval is how often the membership is read from etcd: it bounds
// how long a revoked institution keeps its connection (well under the
// minute DESIGN 6 allows) for one small read per NATS server per interval.
const DefaultInterval = time.Second

// reloadWait is how long a signalled server may take to apply the file.
const reloadWait = 10 * time.Second

// Config is what the reloader needs.
type Config struct {
	Etcd  *clientv3.Client
	Chain string
	// Genesis is the membership while etcd holds none yet (a new network,
	// before intake has published the genesis epoch).
	Genesis *membership.Epoch
	// Passwords is a directory with one file per user, named after it
	// (a mounted Secret with a key per user).
	Passwords string
	// Out is the users file the server's configuration includes.
	Out string
	// PidFile is the server's pid file; empty means write the file only
	// (the init container, before the server runs).
	PidFile string
	// Monitor is the server's monitoring URL (http://127.0.0.1:8222): a
	// reload is confirmed by /varz. Empty means trust the signal.
	Monitor  string
	Interval time.Duration
	Logger   *slog.Logger
}

// Result is what one Sync did.
type Result struct {
	Epoch   uint64
	Changed bool     // the file was rewritten
	Missing []string // entitled users without a usable password: no access
}

// Sync brings the users file in line with the membership once.
func Sync(ctx context.Context, cfg Config) (Result, error) {
	e, err := registry.Load(ctx, cfg.Etcd, cfg.Chain)
	if err != nil {
		return Result{}, err
	}
	if e == nil {
		e = cfg.Genesis
	}
	if e == nil {
		return Result{}, fmt.Errorf("no membership of chain %q in etcd and no genesis", cfg.Chain)
	}
	res := Result{Epoch: e.Epoch}
	passwords, bad := readPasswords(cfg.Passwords, natsauth.Entitled(e))
	conf, missing, err := natsauth.UsersFile(e, passwords)
	res.Missing = append(missing, bad...)
	if err != nil {
		return res, fmt.Errorf("users of epoch %d (passwords in %s): %w", e.Epoch, cfg.Passwords, err)
	}
	old, err := os.ReadFile(cfg.Out)
	if err == nil && bytes.Equal(old, conf) {
		return res, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("read users file: %w", err)
	}
	if err := writeAtomic(cfg.Out, conf); err != nil {
		return res, err
	}
	res.Changed = true
	return res, nil
}

// readPasswords reads the password of each user from dir. A password must
// be URL-safe because services carry it in their NATS URL; one that is not
// is reported and left out, which leaves that user without access rather
// than with a password no client can send.
func readPasswords(dir string, users []natsauth.User) (map[string]string, []string) {
	out := map[string]string{}
	var bad []string
	for _, u := range users {
		raw, err := os.ReadFile(filepath.Join(dir, u.Name))
		if err != nil {
			continue // UsersFile reports it missing
		}
		pw := string(raw)
		if i := strings.IndexFunc(pw, func(r rune) bool { return !urlSafe(r) }); i >= 0 {
			bad = append(bad, fmt.Sprintf("%s (password has %q at %d: use letters, digits and -._~ only)", u.Name, pw[i], i))
			continue
		}
		out[u.Name] = pw
	}
	return out, bad
}

func urlSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
}

// writeAtomic replaces path so that the server never reads half a file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*")
	if err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write users file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace users file: %w", err)
	}
	return nil
}

// Reload asks the server whose pid is in pidFile to re-read its
// configuration and, with a monitor URL, waits until it has: NATS applies
// a configuration all or nothing, and a refused one leaves revoked users
// connected, so a signal alone proves nothing.
func Reload(ctx context.Context, pidFile, monitor string) error {
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("NATS pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	// A stale pid file could name a process that is not the server; never
	// signal init or ourselves.
	if err != nil || pid <= 1 || pid == os.Getpid() {
		return fmt.Errorf("NATS pid file %s: %q is not the server's pid", pidFile, raw)
	}
	var before time.Time
	if monitor != "" {
		if before, err = configLoadTime(ctx, monitor); err != nil {
			return err
		}
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signal NATS server %d: %w", pid, err)
	}
	if monitor == "" {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, reloadWait)
	defer cancel()
	for {
		t, err := configLoadTime(wctx, monitor)
		if err == nil && t.After(before) {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("NATS server %d did not apply the users file within %s (its log says why): last check %v", pid, reloadWait, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var monitorClient = &http.Client{Timeout: 5 * time.Second}

func configLoadTime(ctx context.Context, monitor string) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(monitor, "/")+"/varz", nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("NATS monitor: %w", err)
	}
	resp, err := monitorClient.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("NATS monitor: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("NATS monitor /varz: %s", resp.Status)
	}
	var v struct {
		ConfigLoadTime time.Time `json:"config_load_time"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return time.Time{}, fmt.Errorf("NATS monitor /varz: %w", err)
	}
	return v.ConfigLoadTime, nil
}

// Reloader follows etcd and keeps the server's users in step.
type Reloader struct {
	cfg Config

	mu      sync.Mutex
	pending bool  // the file on disk may not be in force yet
	checked bool  // whether the file found at start is in force is known
	ready   bool  // one whole pass has succeeded
	lastErr error // of the last pass
	epoch   uint64
}

// New makes a reloader; Run starts it.
func New(cfg Config) *Reloader {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// A restarted reloader finds a file it may have written but not had
	// applied before it stopped. With a monitor URL, the first pass finds
	// out (stale); without one, the server reads the file once to be sure.
	return &Reloader{cfg: cfg, pending: cfg.PidFile != "" && cfg.Monitor == "", checked: cfg.Monitor == ""}
}

// stale reports whether the server loaded its configuration before the
// users file last changed. A needless reload at start is avoided: a
// server starting up is busy recovering JetStream.
func stale(ctx context.Context, out, monitor string) (bool, error) {
	fi, err := os.Stat(out)
	if err != nil {
		return false, fmt.Errorf("users file: %w", err)
	}
	loaded, err := configLoadTime(ctx, monitor)
	if err != nil {
		return false, err
	}
	return fi.ModTime().After(loaded), nil
}

// Run passes every interval until ctx ends.
func (r *Reloader) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		r.Step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step is one pass: sync the file, and reload the server if the file in
// force may differ from it.
func (r *Reloader) Step(ctx context.Context) error {
	err := r.step(ctx)
	r.mu.Lock()
	r.lastErr = err
	if err == nil {
		r.ready = true
	}
	r.mu.Unlock()
	if err != nil {
		r.cfg.Logger.Error("NATS users not in step with the membership", "err", err)
	}
	return err
}

func (r *Reloader) step(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, r.cfg.Interval+5*time.Second)
	defer cancel()
	res, syncErr := Sync(sctx, r.cfg)
	r.mu.Lock()
	if res.Changed {
		r.pending = r.cfg.PidFile != ""
	}
	if syncErr == nil {
		r.epoch = res.Epoch
	}
	pending, checked := r.pending, r.checked
	r.mu.Unlock()
	if res.Changed {
		r.cfg.Logger.Info("NATS users file rewritten", "epoch", res.Epoch, "file", r.cfg.Out, "without_password", res.Missing)
	}
	if !pending && !checked && r.cfg.PidFile != "" {
		s, err := stale(sctx, r.cfg.Out, r.cfg.Monitor)
		if err != nil {
			return errors.Join(syncErr, fmt.Errorf("is the users file in force: %w", err))
		}
		r.mu.Lock()
		r.checked, r.pending = true, s
		r.mu.Unlock()
		pending = s
	}
	// A file written earlier but not yet applied is applied even when etcd
	// cannot be read now: it is the newest membership we know.
	if pending {
		rctx, rcancel := context.WithTimeout(ctx, reloadWait+5*time.Second)
		defer rcancel()
		if err := Reload(rctx, r.cfg.PidFile, r.cfg.Monitor); err != nil {
			return errors.Join(syncErr, err)
		}
		r.mu.Lock()
		r.pending, r.checked = false, true
		r.mu.Unlock()
		r.cfg.Logger.Info("NATS server reloaded its users", "epoch", res.Epoch)
	}
	return syncErr
}

// Ready is nil once a whole pass has succeeded. Later failures (etcd out
// of reach, a refused reload) are logged and retried but not reported
// here: an unready sidecar would take a NATS server that serves well out
// of its Service, and the server keeps the last users it had.
func (r *Reloader) Ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready {
		return nil
	}
	if r.lastErr != nil {
		return r.lastErr
	}
	return errors.New("NATS users not written yet")
}

// Epoch is the membership epoch last read.
func (r *Reloader) Epoch() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.epoch
}
