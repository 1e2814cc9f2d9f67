package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server process started by the harness. It dies with the harness:
// the kernel sends it pdeathsig when the thread that forked it exits, which is
// why startChild forks from a goroutine locked to its own OS thread that lives
// exactly as long as the child (the Go runtime never retires such a thread
// while its goroutine is blocked in Wait).
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // Wait's result, valid after done
}

// startChild starts cmd in its own process group, so that a terminal's ^C
// reaches only the harness, which then stops its servers in order.
func startChild(cmd *exec.Cmd, cred *syscall.Credential, pdeathsig syscall.Signal) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  pdeathsig,
		Credential: cred,
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("harness: start %s: %w", cmd.Path, err)
	}
	return c, nil
}

// signal sends sig to the child process alone.
func (c *child) signal(sig syscall.Signal) error {
	if c.exited() {
		return nil
	}
	if err := c.cmd.Process.Signal(sig); err != nil && !c.exited() {
		return fmt.Errorf("harness: signal %v to %d: %w", sig, c.cmd.Process.Pid, err)
	}
	return nil
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// childrenOf lists the live children of pid from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name in parentheses may hold spaces: the fields we
		// want follow its closing parenthesis ("state ppid ...").
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// running reports whether pid exists and has not exited. A zombie has: when
// PID 1 of a container does not reap, killed orphans stay zombies forever.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

// waitGone waits until none of pids is running, or timeout.
func waitGone(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}
