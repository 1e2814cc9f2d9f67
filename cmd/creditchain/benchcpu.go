package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the unit of CPU times in /proc/<pid>/stat (USER_HZ, 100 on
// Linux everywhere that matters).
const clockTicks = 100

// cpuUse is CPU time consumed so far by this process and by the PostgreSQL
// servers it started. Busy machines stretch wall-clock figures; CPU per
// committed transaction is what the run cost whatever else ran beside it.
type cpuUse struct {
	process  time.Duration
	postgres time.Duration
}

func measureCPU() cpuUse {
	var u cpuUse
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	u.postgres = descendantCPU(os.Getpid(), "postgres")
	return u
}

// descendantCPU sums the CPU time (their own, and that of their exited
// children) of the processes named comm that descend from pid.
func descendantCPU(pid int, comm string) time.Duration {
	type proc struct {
		ppid  int
		comm  string
		ticks int64
	}
	procs := map[int]proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		open, close := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || close < open {
			continue
		}
		id, _ := strconv.Atoi(strings.TrimSpace(string(data[:open])))
		f := strings.Fields(string(data[close+1:]))
		if len(f) < 15 {
			continue
		}
		p := proc{comm: string(data[open+1 : close])}
		p.ppid, _ = strconv.Atoi(f[1])
		for _, i := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			p.ticks += v
		}
		procs[id] = p
	}
	var ticks int64
	for _, p := range procs {
		if p.comm != comm {
			continue
		}
		for anc := p.ppid; anc > 1; anc = procs[anc].ppid {
			if anc == pid {
				ticks += p.ticks
				break
			}
			if _, ok := procs[anc]; !ok {
				break
			}
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
