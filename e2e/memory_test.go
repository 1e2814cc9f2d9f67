package e2e

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemoryBounded runs the multi-process network under steady load and
// samples the resident memory of every process it lists: none may keep
// growing. `make test` runs it for a minute; `make soak` for ten
// (CREDITCHAIN_SOAK_MEMORY, at CREDITCHAIN_SOAK_MEMORY_RATE tx/s), and
// prints the table either way.
func TestMemoryBounded(t *testing.T) {
	d := envDuration(t, "CREDITCHAIN_SOAK_MEMORY", time.Minute)
	rate := envPositive(t, "CREDITCHAIN_SOAK_MEMORY_RATE", 100)
	f := startFaultNet(t)
	load := startFaultLoad(t, f, rate)
	every := max(d/40, 2*time.Second)
	type key struct{ name, institution string }
	series := map[key][]int64{}
	pids := map[key]int{}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		time.Sleep(every)
		for _, p := range f.network().Processes {
			k := key{p.Name, p.Institution}
			if old, ok := pids[k]; ok && old != p.PID {
				t.Errorf("%s %s restarted (pid %d -> %d) during a run without faults", p.Name, p.Institution, old, p.PID)
			}
			pids[k] = p.PID
			if rss, err := residentKiB(p.PID); err == nil {
				series[k] = append(series[k], rss)
			}
		}
	}
	load.finish()
	ids, _ := load.acceptedSince(0)
	v := f.check(ids, 2*time.Minute)
	if v.lost+v.duplicated+v.divergent > 0 || len(v.problems) > 0 {
		t.Errorf("under load: lost %d, duplicated %d, divergent %d: %v", v.lost, v.duplicated, v.divergent, v.problems)
	}
	if v.committed == 0 {
		t.Fatalf("no transaction committed in %s", d)
	}

	// Bounded: after a warm-up (the first fifth), the peak of the second
	// half of the run may not exceed the peak of the first half by more
	// than a quarter plus 32 MiB: caches fill and then stay, a leak grows.
	var keys []key
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].institution < keys[j].institution
	})
	var table strings.Builder
	fmt.Fprintf(&table, "memory of every process over %s at %d tx/s (%d committed), resident MiB:\n", d, rate, v.committed)
	fmt.Fprintf(&table, "| process | institution | after warm-up | peak, 1st half | peak, 2nd half | end |\n|---|---|---|---|---|---|\n")
	for _, k := range keys {
		s := series[k]
		if len(s) < 5 {
			t.Errorf("%s %s: only %d samples", k.name, k.institution, len(s))
			continue
		}
		steady := s[len(s)/5:]
		first, second := peak(steady[:len(steady)/2]), peak(steady[len(steady)/2:])
		fmt.Fprintf(&table, "| %s | %s | %.0f | %.0f | %.0f | %.0f |\n", k.name, k.institution,
			mib(steady[0]), mib(first), mib(second), mib(s[len(s)-1]))
		if second > first+first/4+32*1024 {
			t.Errorf("%s %s keeps growing: peak %.0f MiB in the first half, %.0f MiB in the second", k.name, k.institution, mib(first), mib(second))
		}
	}
	t.Log("\n" + table.String())
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration such as 10m", name, s)
	}
	return d
}

// envPositive is the positive integer in the environment variable name,
// or def when it is unset.
func envPositive(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// residentKiB is VmRSS of pid, from /proc.
func residentKiB(pid int) (int64, error) {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("pid %d: no VmRSS", pid)
}

func peak(xs []int64) int64 {
	m := int64(0)
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
