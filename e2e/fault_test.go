package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
)

// perturbation is one kind of fault the runner applies to a live process of
// the network; do returns what it did, for the log.
type perturbation struct {
	name string
	do   func(ctx context.Context, f *faultNet, round int) (string, error)
}

// killAndWait kill -9s name/institution and waits until the supervisor has
// it running again under a new pid.
func killAndWait(f *faultNet, name, institution string) (string, error) {
	pid := f.pid(name, institution)
	if pid == 0 {
		return "", fmt.Errorf("network.json lists no %s %s", name, institution)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return "", fmt.Errorf("kill -9 %s %s (%d): %w", name, institution, pid, err)
	}
	next, err := f.waitRestarted(name, institution, pid, 60*time.Second)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s pid %d killed, back as %d", name, institution, pid, next), nil
}

// otherRecorder picks a recorder that does not lead now.
func otherRecorder(ctx context.Context, f *faultNet, round int) (string, error) {
	leader, _, err := f.leader(ctx)
	if err != nil {
		return "", err
	}
	var others []string
	for _, id := range f.recorders() {
		if id != leader {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return "", fmt.Errorf("no recorder besides the leader %s", leader)
	}
	return others[round%len(others)], nil
}

var perturbations = []perturbation{
	{"kill -9 leader (consensus-ledger)", func(ctx context.Context, f *faultNet, _ int) (string, error) {
		leader, view, err := f.leader(ctx)
		if err != nil {
			return "", err
		}
		what, err := killAndWait(f, devnet.ProcConsensus, leader)
		if err != nil {
			return "", err
		}
		next, nextView, err := f.waitLeader(ctx, view, 30*time.Second)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s; view %d -> %d, %s leads", what, view, nextView, next), nil
	}},
	{"kill -9 recorder (not leading)", func(ctx context.Context, f *faultNet, round int) (string, error) {
		id, err := otherRecorder(ctx, f, round)
		if err != nil {
			return "", err
		}
		return killAndWait(f, devnet.ProcConsensus, id)
	}},
	{"kill -9 replicator", func(_ context.Context, f *faultNet, round int) (string, error) {
		return killAndWait(f, devnet.ProcReplicator, f.ids[round%len(f.ids)])
	}},
	{"kill -9 intake", func(_ context.Context, f *faultNet, _ int) (string, error) {
		return killAndWait(f, devnet.ProcIntake, "")
	}},
	{"kill -9 nats-server", func(_ context.Context, f *faultNet, _ int) (string, error) {
		return killAndWait(f, devnet.ProcNATS, "")
	}},
	{"kill -9 postgres (postmaster)", func(_ context.Context, f *faultNet, _ int) (string, error) {
		return killAndWait(f, devnet.ProcPostgres, "")
	}},
	{"kill -9 etcd", func(_ context.Context, f *faultNet, _ int) (string, error) {
		return killAndWait(f, devnet.ProcEtcd, "")
	}},
	{"SIGSTOP 5s, SIGCONT", func(ctx context.Context, f *faultNet, round int) (string, error) {
		// The leader first (its etcd lease lapses while it sleeps, so it
		// wakes deposed and must be fenced), then other kinds in turn.
		name, id := devnet.ProcConsensus, ""
		switch round % 4 {
		case 0:
			leader, _, err := f.leader(ctx)
			if err != nil {
				return "", err
			}
			id = leader
		case 1:
			name = devnet.ProcIntake
		case 2:
			name, id = devnet.ProcReplicator, f.ids[round%len(f.ids)]
		case 3:
			name = devnet.ProcNATS
		}
		pid := f.pid(name, id)
		if pid == 0 {
			return "", fmt.Errorf("network.json lists no %s %s", name, id)
		}
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return "", err
		}
		time.Sleep(5 * time.Second)
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s pid %d paused 5s", name, id, pid), nil
	}},
	{"cut recorder off NATS 5s", func(ctx context.Context, f *faultNet, round int) (string, error) {
		// A recorder that does not lead, then (every other round) the
		// leader itself: it keeps its etcd lease but cannot reach the
		// stream, so the chain waits for it or for a new view.
		id, err := otherRecorder(ctx, f, round)
		if round%2 == 1 {
			id, _, err = f.leader(ctx)
		}
		if err != nil {
			return "", err
		}
		if err := f.cut(id, 5*time.Second); err != nil {
			return "", err
		}
		time.Sleep(5 * time.Second)
		return fmt.Sprintf("consensus-ledger %s cut off NATS 5s", id), nil
	}},
}

// faultRow is one line of the report: one kind of perturbation.
type faultRow struct {
	count                               int
	accepted, committed, rejected, lost int
	duplicated, divergent               int
	recovery                            time.Duration // the longest until every window transaction was decided
}

// TestFault runs every perturbation against a multi-process network under
// steady load and checks after each one, from every replica's own tables,
// that every accepted transaction ended committed or rejected with a
// reason, none twice, that all replicas hold the same chain, and at the end
// that every replica passes `creditchain ledger verify` and that intake's
// status endpoint tells every accepted transaction as the replicas decided
// it (what a submitter polling it sees).
//
// By default each perturbation runs once (a few minutes, in `make test`).
// CREDITCHAIN_SOAK=30m (`make soak`) runs rounds of all of them in a new
// random order each until that time is up, and CREDITCHAIN_SOAK_RATE sets
// the load (transactions per second).
func TestFault(t *testing.T) {
	soak := envDuration(t, "CREDITCHAIN_SOAK", 0)
	rate := envPositive(t, "CREDITCHAIN_SOAK_RATE", 20)
	began := time.Now()
	f := startFaultNet(t)
	t.Logf("network up in %s: %d processes", time.Since(began).Round(time.Second), f.nprocs)
	load := startFaultLoad(t, f, rate)
	ctx := context.Background()
	rows := map[string]*faultRow{}
	from := 0
	time.Sleep(3 * time.Second) // a steady state first

	runOne := func(p perturbation, round int) {
		row := rows[p.name]
		if row == nil {
			row = &faultRow{}
			rows[p.name] = row
		}
		at := time.Now()
		what, err := p.do(ctx, f, round)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			return
		}
		time.Sleep(time.Second) // the load goes on through the recovery
		ids, next := load.acceptedSince(from)
		from = next
		v := f.check(ids, 90*time.Second)
		row.count++
		row.accepted += v.accepted
		row.committed += v.committed
		row.rejected += v.rejected
		row.lost += v.lost
		row.duplicated += v.duplicated
		row.divergent += v.divergent
		row.recovery = max(row.recovery, time.Since(at))
		t.Logf("%-36s %s; %d accepted since the last check: %d committed, %d rejected, head %d (%s)",
			p.name, what, v.accepted, v.committed, v.rejected, v.head, time.Since(at).Round(100*time.Millisecond))
		for _, pr := range v.problems {
			t.Errorf("after %s: %s", p.name, pr)
		}
		// ledger verify after each perturbation, on one replica in turn
		// (all of them at the end): it re-verifies the whole chain.
		if err := f.verify(f.ids[(row.count+round)%len(f.ids)]); err != nil {
			t.Errorf("after %s: %v", p.name, err)
		}
	}

	rng := rand.New(rand.NewPCG(uint64(began.UnixNano()), 7))
	order := slices.Clone(perturbations)
	for round := 0; ; round++ {
		if soak > 0 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		for _, p := range order {
			if soak > 0 && time.Since(began) > soak {
				break
			}
			runOne(p, round)
		}
		if soak == 0 || time.Since(began) > soak || t.Failed() {
			break
		}
	}

	// The end: stop the load, then every transaction ever accepted is checked
	// once more and every replica is verified end to end.
	load.finish()
	all, _ := load.acceptedSince(0)
	total := f.check(all, 2*time.Minute)
	for _, pr := range total.problems {
		t.Errorf("at the end: %s", pr)
	}
	for _, id := range f.ids {
		if err := f.verify(id); err != nil {
			t.Errorf("at the end: %v", err)
		}
	}
	pending, problems := f.intakeAgrees(all, time.Minute)
	for _, pr := range problems {
		t.Errorf("at the end: %s", pr)
	}
	load.mu.Lock()
	offered, gaveUp, refused := load.offered, load.gaveUp, slices.Clone(load.refused)
	load.mu.Unlock()
	for _, r := range refused {
		t.Errorf("intake refused a valid transaction: %s", r)
	}
	if total.lost != 0 || total.duplicated != 0 || total.divergent != 0 {
		t.Errorf("lost %d, duplicated %d, divergent %d", total.lost, total.duplicated, total.divergent)
	}
	t.Logf("fault runner: %s, %d tx/s offered; %d offered, %d accepted, %d not accepted within a minute of retries; "+
		"%d not final or not as the replicas at intake's status endpoint\n%s",
		time.Since(began).Round(time.Second), rate, offered, total.accepted, gaveUp, pending, faultTable(rows, total))
}

// faultTable formats the report: one row per perturbation, then the totals
// as the final check of every accepted transaction found them.
func faultTable(rows map[string]*faultRow, total verdict) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "perturbation\tcount\taccepted\tcommitted\trejected\tlost\tduplicated\tdivergence\tlongest recovery\t")
	count := 0
	for _, p := range perturbations {
		r := rows[p.name]
		if r == nil {
			continue
		}
		count += r.count
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", p.name, r.count, r.accepted, r.committed, r.rejected,
			r.lost, r.duplicated, r.divergent, r.recovery.Round(100*time.Millisecond))
	}
	fmt.Fprintf(w, "all (final check)\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t\n", count, total.accepted, total.committed, total.rejected,
		total.lost, total.duplicated, total.divergent)
	w.Flush()
	return b.String()
}
