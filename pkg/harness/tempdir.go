package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
)

// makeTemp creates a temporary directory whose name carries our pid, so that
// sweepStale can tell the leftovers of a dead process (one that panicked or
// was killed before its cleanup ran) from directories still in use.
func makeTemp(kind string) (string, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("cc%s-%d-", kind, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("harness: temporary %s directory: %w", kind, err)
	}
	return dir, nil
}

var staleName = regexp.MustCompile(`^cc(env|pg|nats|etcd)-(\d+)-`)

// sweepStale removes temporary directories left by harness processes that no
// longer exist. Their servers are gone already: the embedded ones died with
// the process and PostgreSQL got its parent-death signal.
func sweepStale() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		pid, err := strconv.Atoi(m[2])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
