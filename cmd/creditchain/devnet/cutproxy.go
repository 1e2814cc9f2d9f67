package devnet

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// cutProxy is a loopback TCP proxy that the multi-process supervisor puts
// between one recorder's consensus-ledger and NATS, so that a fault test can
// cut that recorder off the broker alone, as a network partition would,
// without touching the broker or the process: Cut closes every connection
// through it and refuses new ones for a while. (A network namespace would
// need the process to live in one from its start and a route back to
// 127.0.0.1; the proxy needs neither root nor setup.)
type cutProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	cutUntil time.Time
	cuts     int
}

// newCutProxy listens on 127.0.0.1:port (0: any) and forwards to target.
func newCutProxy(port int, target string) (*cutProxy, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("NATS proxy: %w", err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

// Addr is where clients connect (127.0.0.1:port).
func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := time.Now().Before(p.cutUntil)
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *cutProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a connection pair unless a cut began meanwhile.
func (p *cutProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().Before(p.cutUntil) {
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

// Cut drops every connection through the proxy and refuses new ones for d.
func (p *cutProxy) Cut(d time.Duration) {
	p.mu.Lock()
	p.cutUntil = time.Now().Add(d)
	p.cuts++
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Close stops accepting and drops every connection.
func (p *cutProxy) Close() {
	p.ln.Close()
	p.Cut(0)
}
