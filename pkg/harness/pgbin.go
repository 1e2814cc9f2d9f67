package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// pgBinDir finds the directory holding initdb and postgres: CREDITCHAIN_PG_BINDIR
// when set, else the PATH, else the newest /usr/lib/postgresql/*/bin (Debian
// and Ubuntu keep the server binaries off the PATH).
func pgBinDir() (string, error) {
	if d := os.Getenv("CREDITCHAIN_PG_BINDIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			return "", fmt.Errorf("harness: CREDITCHAIN_PG_BINDIR: %w", err)
		}
		return d, nil
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("harness: PostgreSQL server binaries (initdb, postgres) not found on PATH nor in /usr/lib/postgresql/*/bin; install the PostgreSQL server or set CREDITCHAIN_DATABASE_URL")
}

// pgMajor extracts the version from /usr/lib/postgresql/<major>/bin.
func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// pgUser is the OS identity the cluster runs as. PostgreSQL refuses to run as
// root, so as root we switch to the `postgres` account; otherwise we stay
// ourselves and cred is nil.
type pgUser struct {
	uid, gid int
	cred     *syscall.Credential
}

func lookupPGUser() (pgUser, error) {
	if os.Geteuid() != 0 {
		return pgUser{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return pgUser{}, fmt.Errorf("harness: running as root needs the `postgres` OS user to run PostgreSQL as: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return pgUser{}, fmt.Errorf("harness: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return pgUser{}, fmt.Errorf("harness: postgres gid %q: %w", u.Gid, err)
	}
	return pgUser{uid: uid, gid: gid, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

// ensureReachable makes sure the cluster's OS user can walk down to dir. As
// root, directories made by os.MkdirTemp (t.TempDir included) are 0700, so the
// `postgres` user could not reach a data directory below them; inside the
// system temp directory we grant search permission (o+x, never read), and
// elsewhere we refuse with an explanation rather than loosen a user's home.
func (u pgUser) ensureReachable(dir string) error {
	if u.cred == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(int(st.Uid) == u.uid && mode&0o100 != 0) ||
			(int(st.Gid) == u.gid && mode&0o010 != 0)
		if !ok {
			real, _ := filepath.EvalSymlinks(p)
			if real == "" || !strings.HasPrefix(real, tmp+string(filepath.Separator)) {
				return fmt.Errorf("harness: the postgres OS user (uid %d) cannot reach %s because %s is not searchable by it: pick a data directory it can reach, or run chmod o+x %s", u.uid, dir, p, p)
			}
			if err := os.Chmod(p, mode|0o001); err != nil {
				return fmt.Errorf("harness: let the postgres user reach %s: %w", dir, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
