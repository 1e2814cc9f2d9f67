package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/jackc/pgx/v5/pgxpool"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// This file is the multi-process fault runner: a `creditchain dev
// --multiprocess` network (every service, NATS and etcd an OS process of its
// own, real PostgreSQL), a steady signed load through intake, and a checker
// that reads every replica's own tables, never the services' counters.

// faultNet is the network under test, run as a child of the test.
type faultNet struct {
	t       *testing.T
	dir     string
	bin     string
	cmd     *exec.Cmd
	exited  chan struct{}
	control string
	etcd    *clientv3.Client
	chain   string
	pools   map[string]*pgxpool.Pool // institution -> its replica
	ids     []string                 // institutions, in network.json order
	nprocs  int                      // processes listed once the network is up
}

// faultBinDir holds the CLI built for this test binary; TestMain removes
// it once every test is done (tests share it, so none may remove it).
var faultBinDir string

// buildCreditchain builds the CLI once per test binary.
var buildCreditchain = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "cc-fault-bin-")
	if err != nil {
		return "", err
	}
	faultBinDir = dir
	bin := filepath.Join(dir, "creditchain")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/creditchain/creditchain/cmd/creditchain").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build creditchain: %w\n%s", err, out)
	}
	return bin, nil
})

// startFaultNet starts `creditchain dev --multiprocess` in a fresh directory
// and returns once network.json lists every process.
func startFaultNet(t *testing.T) *faultNet {
	bin, err := buildCreditchain()
	if err != nil {
		t.Fatal(err)
	}
	f := &faultNet{t: t, dir: filepath.Join(t.TempDir(), "net"), bin: bin, exited: make(chan struct{}), pools: map[string]*pgxpool.Pool{}}
	out, err := os.Create(filepath.Join(filepath.Dir(f.dir), "dev.out"))
	if err != nil {
		t.Fatal(err)
	}
	f.cmd = exec.Command(bin, "dev", "--multiprocess", "--data", f.dir)
	f.cmd.Stdout, f.cmd.Stderr = out, out
	// Its own process group (a ^C reaches only the test) and dead with the
	// test binary, whatever happens to it; its children die with it.
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.cmd.Wait(); out.Close(); close(f.exited) }()
	t.Cleanup(f.stop)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		raw, _ := os.ReadFile(out.Name())
		if bytes.Contains(raw, []byte("press Ctrl-C to stop")) {
			break
		}
		select {
		case <-f.exited:
			t.Fatalf("creditchain dev --multiprocess exited:\n%s", raw)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("creditchain dev --multiprocess not running after 3 minutes:\n%s", raw)
		}
	}
	nf := f.network()
	f.chain, f.nprocs = nf.ChainID, len(nf.Processes)
	var sv struct {
		ControlURL string `json:"control_url"`
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, "supervisor.json"))
	if err == nil {
		err = json.Unmarshal(raw, &sv)
	}
	if err != nil {
		t.Fatalf("supervisor.json: %v", err)
	}
	f.control = sv.ControlURL
	if f.etcd, err = clientv3.New(clientv3.Config{Endpoints: nf.EtcdEndpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}); err != nil {
		t.Fatal(err)
	}
	for _, in := range nf.Institutions {
		cfg, err := pgxpool.ParseConfig(in.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = 2
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		f.pools[in.ID] = p
		f.ids = append(f.ids, in.ID)
	}
	// Every service ends up in network.json once its processes are up.
	// dev, nats-server, etcd, postgres, intake, signer; a replicator and a
	// query per institution; a consensus-ledger and an exit-contract per recorder.
	// network.json is rewritten by a loop of the supervisor's own, so the
	// last processes may appear a moment after the ready line.
	want := 6 + 2*len(nf.Institutions) + 2*len(f.recorders())
	for listed := time.Now().Add(30 * time.Second); f.nprocs != want; {
		if time.Now().After(listed) {
			t.Fatalf("network.json lists %d processes, want %d: %+v", f.nprocs, want, nf.Processes)
		}
		time.Sleep(250 * time.Millisecond)
		nf = f.network()
		f.nprocs = len(nf.Processes)
	}
	return f
}

// stop asks the supervisor to stop and checks that it did, with every child.
func (f *faultNet) stop() {
	if f.t.Failed() {
		f.dumpLogs()
	}
	for _, p := range f.pools {
		p.Close()
	}
	if f.etcd != nil {
		f.etcd.Close()
	}
	select {
	case <-f.exited:
		return
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(60 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.t.Errorf("creditchain dev did not stop within a minute of SIGTERM")
	}
}

// dumpLogs prints the end of every process's log (DIR/logs), and of the
// supervisor's own output, so that a failure in CI says why a process died.
func (f *faultNet) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(f.dir, "logs", "*.log"))
	logs = append(logs, filepath.Join(filepath.Dir(f.dir), "dev.out"))
	for _, name := range logs {
		raw, err := os.ReadFile(name)
		if err != nil || len(raw) == 0 {
			continue
		}
		lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
		lines = lines[max(0, len(lines)-25):]
		f.t.Logf("last lines of %s:\n%s", filepath.Base(name), bytes.Join(lines, []byte("\n")))
	}
}

// network reads network.json as it is now.
func (f *faultNet) network() devnet.NetworkFile {
	f.t.Helper()
	var nf devnet.NetworkFile
	raw, err := os.ReadFile(filepath.Join(f.dir, "network.json"))
	if err == nil {
		err = json.Unmarshal(raw, &nf)
	}
	if err != nil {
		f.t.Fatalf("network.json: %v", err)
	}
	return nf
}

// pid is the live process name/institution per network.json, 0 if none.
func (f *faultNet) pid(name, institution string) int {
	for _, p := range f.network().Processes {
		if p.Name == name && p.Institution == institution {
			return p.PID
		}
	}
	return 0
}

func (f *faultNet) recorders() []string {
	var out []string
	for _, in := range f.network().Institutions {
		if slices.Contains(in.Roles, "recorder") {
			out = append(out, in.ID)
		}
	}
	return out
}

// leader is the recorder leading now and its view, from the etcd election.
func (f *faultNet) leader(ctx context.Context) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := f.etcd.Get(ctx, registry.ElectionPrefix(f.chain)+"/", append(clientv3.WithFirstCreate(), clientv3.WithPrefix())...)
	if err != nil {
		return "", 0, err
	}
	if len(resp.Kvs) == 0 {
		return "", 0, errors.New("no leader")
	}
	return string(resp.Kvs[0].Value), resp.Kvs[0].CreateRevision, nil
}

// waitLeader waits for a leader in a view after view.
func (f *faultNet) waitLeader(ctx context.Context, view int64, within time.Duration) (string, int64, error) {
	deadline := time.Now().Add(within)
	for {
		id, v, err := f.leader(ctx)
		if err == nil && v > view {
			return id, v, nil
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("no leader after view %d within %s (last: %s %d %v)", view, within, id, v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRestarted waits until network.json lists name/institution with a pid
// other than old, and every process again.
func (f *faultNet) waitRestarted(name, institution string, old int, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	for {
		nf := f.network()
		pid := 0
		for _, p := range nf.Processes {
			if p.Name == name && p.Institution == institution {
				pid = p.PID
			}
		}
		if pid != 0 && pid != old && len(nf.Processes) == f.nprocs {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s %s (pid %d) not restarted within %s", name, institution, old, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cut asks the supervisor to cut recorder id off NATS for d.
func (f *faultNet) cut(id string, d time.Duration) error {
	resp, err := http.Post(fmt.Sprintf("%s/cut?institution=%s&for=%s", f.control, id, d), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("cut %s: %s %s", id, resp.Status, b)
	}
	return nil
}

// verify runs `creditchain ledger verify` on institution id's replica.
func (f *faultNet) verify(id string) error {
	var url string
	for _, in := range f.network().Institutions {
		if in.ID == id {
			url = in.DatabaseURL
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, f.bin, "ledger", "verify", "--quiet", "--database", url,
		"--genesis", filepath.Join(f.dir, "genesis.json")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ledger verify %s: %w\n%s", id, err, out)
	}
	if !bytes.HasPrefix(out, []byte("sound:")) {
		return fmt.Errorf("ledger verify %s: %s", id, out)
	}
	return nil
}

// faultLoad submits record.create transactions at a steady rate, signed by
// the recorders in turn, retrying each (the same envelope, so the same tx
// id) through intake restarts and broker outages.
type faultLoad struct {
	url    string
	chain  string
	su     suite.Suite
	keys   []*suite.KeyFile
	cats   []string
	client *http.Client
	base   int

	mu       sync.Mutex
	accepted []string
	offered  int
	gaveUp   int
	refused  []string // 4xx answers to valid transactions: a bug

	stop chan struct{}
	wg   sync.WaitGroup
}

func startFaultLoad(t *testing.T, f *faultNet, perSecond int) *faultLoad {
	nf := f.network()
	l := &faultLoad{url: nf.IntakeURL, chain: nf.ChainID, stop: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second}}
	var err error
	if l.su, err = suite.ByName(nf.CryptoSuite); err != nil {
		t.Fatal(err)
	}
	for _, in := range nf.Institutions {
		if slices.Contains(in.Roles, "recorder") && len(in.Categories) > 0 {
			kf, err := suite.LoadKeyFile(filepath.Join(f.dir, in.KeyFile))
			if err != nil {
				t.Fatal(err)
			}
			l.keys, l.cats = append(l.keys, kf), append(l.cats, in.Categories[0])
		}
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	l.base = 3_000_000 + (int(b[0])<<8+int(b[1]))*1000
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		inflight := make(chan struct{}, 128)
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			select {
			case inflight <- struct{}{}:
			default: // intake is down and every slot waits: skip this tick
				continue
			}
			l.wg.Add(1)
			go func() {
				defer func() { <-inflight; l.wg.Done() }()
				l.submit(i)
			}()
		}
	}()
	return l
}

// submit signs transaction i and posts it until intake accepts it (202, or
// 409 when an earlier attempt got in but its answer was lost), for at most
// a minute, well inside intake's ±5 min created_at window.
func (l *faultLoad) submit(i int) {
	k := l.keys[i%len(l.keys)]
	code, err := devnet.DevUSCC(l.base + i)
	if err != nil {
		return
	}
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	p := devnet.ExampleRecord(code, "故障测试有限公司", l.cats[i%len(l.cats)], fmt.Sprintf("(2026)闽02执%d号", l.base+i), start, "P2Y")
	payload, _ := json.Marshal(p)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	env := &txn.Envelope{Chain: l.chain, Type: "record.create", Submitter: k.Institution, Nonce: hex.EncodeToString(nonce),
		CreatedAt: txn.FormatTime(time.Now().UTC()), Payload: payload}
	if err := txn.Sign(env, l.su, k.PrivateKey(), k.KeyID); err != nil {
		return
	}
	id, _ := env.ID(l.su)
	body, _ := json.Marshal(txn.Submission{Tx: env})
	l.mu.Lock()
	l.offered++
	l.mu.Unlock()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-l.stop:
			return
		default:
		}
		resp, err := l.client.Post(l.url+"/v1/transactions", "application/json", bytes.NewReader(body))
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusConflict:
			l.mu.Lock()
			l.accepted = append(l.accepted, id)
			l.mu.Unlock()
			return
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			time.Sleep(200 * time.Millisecond)
		default:
			l.mu.Lock()
			l.refused = append(l.refused, fmt.Sprintf("%s: %d %s", id, resp.StatusCode, bytes.TrimSpace(raw)))
			l.mu.Unlock()
			return
		}
	}
	l.mu.Lock()
	l.gaveUp++
	l.mu.Unlock()
}

// acceptedSince returns the transactions accepted from index from on, and
// the index to continue from.
func (l *faultLoad) acceptedSince(from int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.accepted[from:]), len(l.accepted)
}

func (l *faultLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

// verdict is what the checker found for a set of accepted transactions.
type verdict struct {
	accepted, committed, rejected int
	lost, duplicated, divergent   int
	head                          int64
	problems                      []string
}

// check reads every replica directly: each of ids must be committed (in a
// block) or rejected with a reason (a receipt with a code), the same way on
// every replica, never both and never twice; the replicas must hold the
// same chain, without gaps, up to a common head.
func (f *faultNet) check(ids []string, within time.Duration) verdict {
	ctx, cancel := context.WithTimeout(context.Background(), within+time.Minute)
	defer cancel()
	v := verdict{accepted: len(ids)}
	deadline := time.Now().Add(within)
	// Wait until every replica has decided every transaction.
	for _, id := range f.ids {
		for {
			var undecided int
			err := f.pools[id].QueryRow(ctx, `SELECT count(*) FROM unnest($1::text[]) AS a(id)
				WHERE NOT EXISTS (SELECT 1 FROM txs WHERE tx_id = a.id)
				  AND NOT EXISTS (SELECT 1 FROM receipts WHERE tx_id = a.id AND status = 'rejected' AND code <> '')`, ids).Scan(&undecided)
			if err == nil && undecided == 0 {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					v.problems = append(v.problems, fmt.Sprintf("replica %s: %v", id, err))
					undecided = len(ids)
				}
				v.lost = max(v.lost, undecided)
				v.problems = append(v.problems, fmt.Sprintf("replica %s: %d of %d accepted transactions undecided after %s", id, undecided, len(ids), within))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// What each replica decided, and its chain up to the lowest head.
	type view struct {
		committed, rejected, both, dups int
		decisions, chain                string
		blocks                          int64
	}
	views := map[string]view{}
	minHead := int64(-1)
	for _, id := range f.ids {
		var h int64
		if err := f.pools[id].QueryRow(ctx, `SELECT height FROM head`).Scan(&h); err != nil {
			v.problems = append(v.problems, fmt.Sprintf("replica %s head: %v", id, err))
			return v
		}
		if minHead < 0 || h < minHead {
			minHead = h
		}
	}
	v.head = minHead
	for _, id := range f.ids {
		var w view
		err := f.pools[id].QueryRow(ctx, `
			WITH a AS (SELECT DISTINCT unnest($1::text[]) AS id),
			     c AS (SELECT t.tx_id, t.height FROM txs t JOIN a ON t.tx_id = a.id),
			     r AS (SELECT x.tx_id, x.code FROM receipts x JOIN a ON x.tx_id = a.id WHERE x.status = 'rejected')
			SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM r),
			       (SELECT count(*) FROM c JOIN r USING (tx_id)),
			       (SELECT count(*) - count(DISTINCT tx_id) FROM txs),
			       coalesce(md5((SELECT string_agg(tx_id || ':' || height, ',' ORDER BY tx_id) FROM c)
			                 || '|' || (SELECT coalesce(string_agg(tx_id || ':' || code, ',' ORDER BY tx_id), '') FROM r)), ''),
			       (SELECT md5(coalesce(string_agg(hash, ',' ORDER BY height), '')) FROM blocks WHERE height <= $2),
			       (SELECT count(*) FROM blocks WHERE height <= $2)`, ids, minHead).
			Scan(&w.committed, &w.rejected, &w.both, &w.dups, &w.decisions, &w.chain, &w.blocks)
		if err != nil {
			v.problems = append(v.problems, fmt.Sprintf("replica %s: %v", id, err))
			return v
		}
		if w.blocks != minHead+1 {
			v.problems = append(v.problems, fmt.Sprintf("replica %s holds %d blocks up to height %d: a gap", id, w.blocks, minHead))
			v.divergent++
		}
		if w.both > 0 || w.dups > 0 {
			v.duplicated += w.both + w.dups
			v.problems = append(v.problems, fmt.Sprintf("replica %s: %d transactions both committed and rejected, %d held twice", id, w.both, w.dups))
		}
		views[id] = w
	}
	first := views[f.ids[0]]
	v.committed, v.rejected = first.committed, first.rejected
	for _, id := range f.ids[1:] {
		w := views[id]
		if w.chain != first.chain || w.decisions != first.decisions {
			v.divergent++
			v.problems = append(v.problems, fmt.Sprintf("replica %s differs from %s up to height %d (chain %t, decisions %t)",
				id, f.ids[0], minHead, w.chain == first.chain, w.decisions == first.decisions))
		}
	}
	return v
}

// intakeAgrees waits until intake's status endpoint, which is what a
// submitter polls, tells every one of ids as final and as the first replica
// decided it: committed or rejected, never "pending" for good (a leader
// that died before writing receipts leaves them to its successor). It
// returns how many it still did not, with the first few as problems.
func (f *faultNet) intakeAgrees(ids []string, within time.Duration) (int, []string) {
	ctx, cancel := context.WithTimeout(context.Background(), within+time.Minute)
	defer cancel()
	committed := map[string]bool{}
	rows, err := f.pools[f.ids[0]].Query(ctx, `SELECT tx_id FROM txs WHERE tx_id = ANY($1)`, ids)
	if err != nil {
		return len(ids), []string{fmt.Sprintf("replica %s: %v", f.ids[0], err)}
	}
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			committed[id] = true
		}
	}
	rows.Close()
	url := f.network().IntakeURL
	client := &http.Client{Timeout: 5 * time.Second}
	// status is intake's answer for id: "" when it has none (yet).
	status := func(id string) string {
		resp, err := client.Get(url + "/v1/transactions/" + id)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var st struct {
			Status string `json:"status"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
			return ""
		}
		return st.Status
	}
	want := func(id string) string {
		if committed[id] {
			return "committed"
		}
		return "rejected"
	}
	left := slices.Clone(ids)
	deadline := time.Now().Add(within)
	var last map[string]string
	for {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var still []string
		last = map[string]string{}
		work := make(chan string)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range work {
					if got := status(id); got != want(id) {
						mu.Lock()
						still, last[id] = append(still, id), got
						mu.Unlock()
					}
				}
			}()
		}
		for _, id := range left {
			work <- id
		}
		close(work)
		wg.Wait()
		left = still
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	var problems []string
	for i, id := range left {
		if i == 5 {
			problems = append(problems, fmt.Sprintf("... and %d more", len(left)-5))
			break
		}
		problems = append(problems, fmt.Sprintf("intake says %q for %s, the replicas %s", last[id], id, want(id)))
	}
	return len(left), problems
}
