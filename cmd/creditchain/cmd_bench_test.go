package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchAgainstNetwork runs `creditchain bench` against a real
// in-process network for a few seconds: what it accepted is committed at
// every replica, nothing lost, and the report is the contract's JSON.
func TestBenchAgainstNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, dir := startTestNetwork(ctx, t)
	code, out, errs := runCmd(t, "bench", "--network", filepath.Join(dir, "network.json"), "--duration", "3s", "--rate", "40", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s\n%s", code, out, errs)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if rep.Accepted < 100 || rep.Committed != rep.Accepted || rep.Lost != 0 || rep.Duplicated != 0 || rep.Rejected != 0 {
		t.Fatalf("3 s at 40 tx/s: %+v", rep)
	}
	if rep.LatencyMs.P50 <= 0 || rep.LatencyMs.P99 < rep.LatencyMs.P50 || rep.LatencyMs.Max < rep.LatencyMs.P99 {
		t.Fatalf("latency %+v", rep.LatencyMs)
	}
	if rep.CPU.MsPerTx <= 0 {
		t.Fatalf("cpu %+v", rep.CPU)
	}
	if !strings.Contains(errs, "signed 120 transactions") {
		t.Errorf("no pre-signing reported:\n%s", errs)
	}
}

func TestBenchRefusesBadRate(t *testing.T) {
	for _, rate := range []string{"0", "-5", "fast"} {
		if code, _, errs := runCmd(t, "bench", "--rate", rate); code != 2 || !strings.Contains(errs, "--rate") {
			t.Errorf("--rate %s: exit %d, %q", rate, code, errs)
		}
	}
}

func TestPresignCount(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		rate int
		want int
	}{
		{60 * time.Second, 1000, 60_000},
		{60 * time.Second, 0, 60 * presignGuessTPS},
		{time.Hour, 10, int((presignedFor * 3 / 4).Seconds()) * 10}, // what is used while still fresh
	} {
		if got := presignCount(c.d, c.rate); got != c.want {
			t.Errorf("presignCount(%s, %d) = %d, want %d", c.d, c.rate, got, c.want)
		}
	}
}
