package devnet

import (
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// portBook remembers the port of each process in a file, so that a network
// resumed from its directory comes back on the same URLs when they are free.
type portBook struct {
	path string
	mu   sync.Mutex
	file map[string]int // as remembered
	now  map[string]int // as chosen for this run
}

func loadPortBook(path string) (*portBook, error) {
	b := &portBook{path: path, file: map[string]int{}, now: map[string]int{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(raw, &b.file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// get returns key's port for this run: the one chosen before; else the
// remembered one, or want (>0), when free; else a free one.
func (b *portBook) get(key string, want int) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.now[key]; ok {
		return p, nil
	}
	var port int
	for _, p := range []int{b.file[key], want} {
		if p > 0 && portFree(p) {
			port = p
			break
		}
	}
	if port == 0 {
		var err error
		if port, err = freePort(b.booked); err != nil {
			return 0, err
		}
	}
	b.now[key], b.file[key] = port, port
	raw, _ := json.MarshalIndent(b.file, "", "  ")
	if err := os.WriteFile(b.path, raw, 0o644); err != nil {
		return 0, fmt.Errorf("write %s: %w", b.path, err)
	}
	return port, nil
}

// booked reports whether p is already given to a process of this network:
// that process may not have bound it yet, so it looks free. Called with
// b.mu held.
func (b *portBook) booked(p int) bool {
	for _, m := range []map[string]int{b.now, b.file} {
		for _, q := range m {
			if q == p {
				return true
			}
		}
	}
	return false
}

// forget drops key's port: the next get picks another.
func (b *portBook) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.now, key)
	delete(b.file, key)
}

// listenPort is the port of the --listen argument in args, or 0.
func listenPort(args []string) int {
	i := slices.Index(args, "--listen")
	if i < 0 || i+1 >= len(args) {
		return 0
	}
	_, port, err := net.SplitHostPort(args[i+1])
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(port)
	return p
}

func portFree(p int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// freePort picks a free port below the kernel's ephemeral range, where
// neither outgoing connections nor other programs' listeners on port 0
// land: the port is free now but bound by the child only later, and a
// port from the ephemeral range may be taken in between (seen in CI,
// where other test packages run beside the multi-process network). Ports
// for which taken is true are skipped: given to a process not yet bound.
func freePort(taken func(int) bool) (int, error) {
	lo, hi := 20000, ephemeralLow()-1
	for range 200 {
		if hi <= lo {
			break
		}
		p := lo + mrand.IntN(hi-lo+1)
		if !taken(p) && portFree(p) {
			return p, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(raw)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil {
				return lo
			}
		}
	}
	return 32768
}
