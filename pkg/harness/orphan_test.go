package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A test binary that dies without cleanup (SIGKILL, a panic, a timeout)
// takes its PostgreSQL down with it, and the next run sweeps its directory.
func TestNoOrphanPostgres(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscan(line, &pid, &dir); err != nil {
		cmd.Process.Kill()
		t.Fatalf("child said %q: %v", line, err)
	}
	workers := childrenOf(pid)
	if !running(pid) || len(workers) == 0 {
		t.Fatalf("child's postmaster %d not running with workers (%v)", pid, workers)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range append([]int{pid}, workers...) {
		for running(p) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the killed binary's cluster still running", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	sweepStale()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dead binary's cluster dir %s not swept: %v", dir, err)
	}
}
