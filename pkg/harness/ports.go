package harness

import (
	"fmt"
	"net"
	"strconv"
)

// freePort asks the kernel for an unused TCP port on 127.0.0.1. The port is
// released before it is returned, so another process may take it first:
// callers that picked it themselves retry on a bind failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("harness: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether port can be bound on 127.0.0.1 right now.
func portFree(port int) bool {
	if port <= 0 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// pickPort returns want when it is set, else a fresh free port.
func pickPort(want int) (int, error) {
	if want > 0 {
		return want, nil
	}
	return freePort()
}
