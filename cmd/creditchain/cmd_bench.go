package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func init() {
	register("bench", "load generator: bench [--network FILE] [--duration D] [--rate R|max] [--json]", runBench)
}

// benchReport is the contract's `creditchain bench --json` output (DESIGN 9.6).
type benchReport struct {
	CommittedTPS float64        `json:"committed_tps"`
	OfferedTPS   float64        `json:"offered_tps"`
	DurationS    float64        `json:"duration_s"`
	Accepted     int64          `json:"accepted"`
	Committed    int64          `json:"committed"`
	Rejected     int64          `json:"rejected"`
	Lost         int64          `json:"lost"`
	Duplicated   int64          `json:"duplicated"`
	LatencyMs    benchLatencies `json:"latency_ms"`
	// CPU is what the run cost in CPU: this process (every service of a
	// network it started, and the load generator itself) and the
	// PostgreSQL servers it started, from the start of the load until
	// every accepted transaction was decided.
	CPU benchCPU `json:"cpu"`
}

type benchCPU struct {
	ProcessS  float64 `json:"process_s"`
	PostgresS float64 `json:"postgres_s"`
	MsPerTx   float64 `json:"ms_per_decided_tx"`
	CoresBusy float64 `json:"cores_busy"`
}

type benchLatencies struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	network := fs.String("network", "", "network.json of a running network (default: start one with the dev defaults)")
	duration := fs.Duration("duration", 30*time.Second, "how long to offer load")
	rate := fs.String("rate", "max", "transactions per second, or max")
	workers := fs.Int("workers", 32, "concurrent submitters")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	blockInterval := fs.Duration("block-interval", 0, "with no --network: how long a leader collects after the first transaction (default: the dev network's)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the whole dev network when it started one) to `FILE`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	perSecond := 0
	if *rate != "max" {
		r, err := strconv.Atoi(*rate)
		if err != nil || r <= 0 {
			fmt.Fprintf(stderr, "bench: --rate must be a positive number or max, not %q\n", *rate)
			return 2
		}
		perSecond = r
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	path := *network
	if path == "" {
		dir, err := os.MkdirTemp("", "creditchain-bench-")
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(stderr, "bench: starting a dev network in", dir)
		n, err := devnet.Start(ctx, devnet.Options{Dir: dir, IntakePort: -1, PortalPort: -1, BlockInterval: *blockInterval,
			Progress: func(s string) { fmt.Fprintln(stderr, "bench:", s) }})
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer n.Close()
		path = filepath.Join(dir, "network.json")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench(ctx, path, *duration, perSecond, *workers, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(rep)
	} else {
		fmt.Fprintf(stdout, "committed %.0f tx/s (offered %.0f tx/s) over %.0fs: accepted %d, committed %d, rejected %d, lost %d, duplicated %d\n",
			rep.CommittedTPS, rep.OfferedTPS, rep.DurationS, rep.Accepted, rep.Committed, rep.Rejected, rep.Lost, rep.Duplicated)
		fmt.Fprintf(stdout, "latency submit→committed at every replica: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms\n",
			rep.LatencyMs.P50, rep.LatencyMs.P95, rep.LatencyMs.P99, rep.LatencyMs.Max)
		fmt.Fprintf(stdout, "cpu: %.1f s in this process, %.1f s in PostgreSQL, %.2f ms per decided transaction, %.1f cores busy\n",
			rep.CPU.ProcessS, rep.CPU.PostgresS, rep.CPU.MsPerTx, rep.CPU.CoresBusy)
	}
	if rep.Lost > 0 || rep.Duplicated > 0 {
		return 1
	}
	return 0
}

// benchRun is the state of one load run.
type benchRun struct {
	nf       *devnet.NetworkFile
	key      *suite.KeyFile
	suite    suite.Suite
	category string
	replicas []*pgxpool.Pool
	client   *http.Client

	submitted sync.Map // tx id -> submit time
	offered   atomic.Int64
	accepted  atomic.Int64
	refused   atomic.Int64 // 4xx at intake: a bench bug, reported

	mu        sync.Mutex
	committed int64
	rejected  int64
	latencies []float64
	inWindow  int64
}

func bench(ctx context.Context, path string, d time.Duration, perSecond, workers int, log io.Writer) (*benchReport, error) {
	b, err := openBench(ctx, path)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, p := range b.replicas {
			p.Close()
		}
	}()
	runID := make([]byte, 4)
	_, _ = rand.Read(runID)
	base := 2_000_000 + int(runID[0])<<16 + int(runID[1])<<8 // distinct subjects per run
	pool := b.presign(ctx, base, presignCount(d, perSecond), log)
	cpu0 := measureCPU()
	start := time.Now()
	end := start.Add(d)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				i := next.Add(1)
				if perSecond > 0 {
					// Transaction i is due at start + i/rate: a schedule, not a
					// ticker, which drops ticks on a busy machine and offers
					// less than asked.
					due := start.Add(time.Duration(i) * time.Second / time.Duration(perSecond))
					if !due.Before(end) {
						return
					}
					select {
					case <-time.After(time.Until(due)):
					case <-ctx.Done():
						return
					}
				}
				if i <= int64(len(pool)) && pool[i-1].body != nil && time.Since(pool[i-1].signed) < presignedFor {
					b.send(ctx, pool[i-1])
					pool[i-1] = benchTx{}
					continue
				}
				if tx, err := b.prepare(base + int(i)); err == nil {
					b.send(ctx, tx)
				}
			}
		}()
	}
	pollCtx, cancelPoll := context.WithCancel(ctx)
	polled := make(chan error, 1)
	go func() { polled <- b.poll(pollCtx, start, end, log) }()
	wg.Wait()
	loadEnd := time.Now()
	// Drain: wait until every accepted transaction is decided, at most a minute.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		b.mu.Lock()
		done := b.committed + b.rejected
		b.mu.Unlock()
		if done >= b.accepted.Load() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cpu1, decidedAt := measureCPU(), time.Now()
	cancelPoll()
	if err := <-polled; err != nil && ctx.Err() == nil {
		return nil, err
	}
	dur := loadEnd.Sub(start).Seconds()
	rep := &benchReport{DurationS: round1(dur), Accepted: b.accepted.Load(), Committed: b.committed, Rejected: b.rejected}
	rep.OfferedTPS = round1(float64(b.offered.Load()) / dur)
	rep.CommittedTPS = round1(float64(b.inWindow) / dur)
	rep.Lost = rep.Accepted - rep.Committed - rep.Rejected
	if b.refused.Load() > 0 {
		fmt.Fprintf(log, "bench: intake refused %d transactions (4xx)\n", b.refused.Load())
	}
	dup, err := b.checkReplicas(ctx)
	if err != nil {
		return nil, err
	}
	rep.Duplicated = dup
	rep.LatencyMs = percentiles(b.latencies)
	proc, pg := (cpu1.process - cpu0.process).Seconds(), (cpu1.postgres - cpu0.postgres).Seconds()
	rep.CPU = benchCPU{ProcessS: round1(proc), PostgresS: round1(pg),
		CoresBusy: round1((proc + pg) / decidedAt.Sub(start).Seconds())}
	if decided := rep.Committed + rep.Rejected; decided > 0 {
		rep.CPU.MsPerTx = float64(int64((proc+pg)*1e5/float64(decided))) / 100
	}
	return rep, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func openBench(ctx context.Context, path string) (*benchRun, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nf devnet.NetworkFile
	if err := json.Unmarshal(raw, &nf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := &benchRun{nf: &nf, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if b.suite, err = suite.ByName(nf.CryptoSuite); err != nil {
		return nil, err
	}
	for _, in := range nf.Institutions {
		if b.key == nil && slices.Contains(in.Roles, "recorder") && len(in.Categories) > 0 {
			if b.key, err = suite.LoadKeyFile(filepath.Join(filepath.Dir(path), in.KeyFile)); err != nil {
				return nil, err
			}
			b.category = in.Categories[0]
		}
		p, err := pgxpool.New(ctx, in.DatabaseURL)
		if err != nil {
			return nil, err
		}
		b.replicas = append(b.replicas, p)
	}
	if b.key == nil {
		return nil, fmt.Errorf("%s names no recorder to sign with", path)
	}
	return b, nil
}

// benchTx is one signed submission, ready to post.
type benchTx struct {
	id     string
	body   []byte
	signed time.Time
}

// prepare signs record.create number i (a fresh organization).
func (b *benchRun) prepare(i int) (benchTx, error) {
	code, err := devnet.DevUSCC(i)
	if err != nil {
		return benchTx{}, err
	}
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	payload, _ := json.Marshal(map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": code, "name": "基准测试有限公司"},
		"category": b.category, "measures": []string{"high_consumption_ban"},
		"basis": map[string]any{"document_no": fmt.Sprintf("(2026)闽02执%d号", i), "decided_at": txn.FormatTime(start), "law": "bench"},
		"start": txn.FormatTime(start), "term": "P2Y", "policy": b.category,
	})
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	env := &txn.Envelope{Chain: b.nf.ChainID, Type: "record.create", Submitter: b.key.Institution,
		Nonce: hex.EncodeToString(nonce), CreatedAt: txn.FormatTime(time.Now().UTC()), Payload: payload}
	if err := txn.Sign(env, b.suite, b.key.PrivateKey(), b.key.KeyID); err != nil {
		return benchTx{}, err
	}
	id, err := env.ID(b.suite)
	if err != nil {
		return benchTx{}, err
	}
	body, err := json.Marshal(txn.Submission{Tx: env})
	return benchTx{id: id, body: body, signed: time.Now()}, err
}

// send posts tx to intake (retrying what may not have arrived) and counts it.
func (b *benchRun) send(ctx context.Context, tx benchTx) {
	id, body := tx.id, tx.body
	b.offered.Add(1)
	b.submitted.Store(id, time.Now())
	for attempt := 0; attempt < 5; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.nf.IntakeURL+"/v1/transactions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.client.Do(req)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			b.accepted.Add(1)
			return
		case resp.StatusCode == http.StatusConflict: // our retry of an accepted one
			b.accepted.Add(1)
			return
		case resp.StatusCode >= 500:
			time.Sleep(100 * time.Millisecond)
			continue
		default:
			b.refused.Add(1)
			b.submitted.Delete(id)
			return
		}
	}
	b.submitted.Delete(id)
}

// poll follows the replicas: a transaction counts as committed when every
// replica's head has reached its block.
func (b *benchRun) poll(ctx context.Context, start, end time.Time, log io.Writer) error {
	var done int64
	lastReport := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
		minH := int64(-1)
		for _, p := range b.replicas {
			var h int64
			if err := p.QueryRow(ctx, `SELECT height FROM head`).Scan(&h); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("read replica head: %w", err)
			}
			if minH < 0 || h < minH {
				minH = h
			}
		}
		if minH <= done {
			continue
		}
		now := time.Now()
		rows, err := b.replicas[0].Query(ctx, `SELECT tx_id, status FROM receipts WHERE height > $1 AND height <= $2`, done, minH)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		b.mu.Lock()
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				break
			}
			t0, ok := b.submitted.LoadAndDelete(id)
			if !ok {
				continue
			}
			if status == "committed" {
				b.committed++
				b.latencies = append(b.latencies, float64(now.Sub(t0.(time.Time)).Microseconds())/1000)
				if now.Before(end.Add(50 * time.Millisecond)) {
					b.inWindow++
				}
			} else {
				b.rejected++
			}
		}
		b.mu.Unlock()
		rows.Close()
		done = minH
		if time.Since(lastReport) > 5*time.Second {
			b.mu.Lock()
			fmt.Fprintf(log, "bench: %4.0fs offered %d accepted %d committed everywhere %d (%.0f tx/s) height %d\n",
				time.Since(start).Seconds(), b.offered.Load(), b.accepted.Load(), b.committed, float64(b.committed)/time.Since(start).Seconds(), minH)
			b.mu.Unlock()
			lastReport = time.Now()
		}
	}
}

// checkReplicas counts, in every replica, transactions held more than once
// (by content: a second tx id for the same signed envelope cannot exist, so
// this counts rows beyond one per tx id and per record).
func (b *benchRun) checkReplicas(ctx context.Context) (int64, error) {
	var dup int64
	for _, p := range b.replicas {
		var d int64
		if err := p.QueryRow(ctx, `SELECT count(*) - count(DISTINCT tx_id) FROM txs`).Scan(&d); err != nil {
			return 0, err
		}
		dup += d
	}
	return dup, nil
}

func percentiles(xs []float64) benchLatencies {
	if len(xs) == 0 {
		return benchLatencies{}
	}
	sort.Float64s(xs)
	at := func(q float64) float64 { return round1(xs[min(len(xs)-1, int(q*float64(len(xs))))]) }
	return benchLatencies{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: round1(xs[len(xs)-1])}
}
