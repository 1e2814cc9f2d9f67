package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/cmd/creditchain/ledgercmd"
	"github.com/creditchain/creditchain/pkg/audit"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestTamper edits a stopped replica's database in the ways an insider
// could (DESIGN 2), one case at a time: each must be found by the audit at
// its height and row, and `ledger repair` must restore the replica from
// the stream to the chain the other replicas hold.
func TestTamper(t *testing.T) {
	ctx := context.Background()
	n := startNetwork(t, devnet.Options{})
	ids := commitSample(t, n)
	waitConverged(t, n, 30*time.Second)

	victim := n.Institutions[bank].Member.ID
	n.StopReplicator(victim)
	url, err := n.ReplicaURL(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	store, err := pgstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	nc, err := nats.Connect(n.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}

	exec := func(sql string, args ...any) {
		t.Helper()
		tag, err := store.Pool.Exec(ctx, sql, args...)
		if err != nil {
			t.Fatalf("tamper: %v", err)
		}
		if tag.RowsAffected() == 0 {
			t.Fatalf("tamper changed nothing: %s", sql)
		}
	}
	at := func(id string) txPlace { return placeOf(t, store, id) }

	cases := []struct {
		name   string
		tamper func(t *testing.T) (height uint64, table, row string)
		detail string // in the problem's text, when set
	}{
		{"envelope payload edited", func(t *testing.T) (uint64, string, string) {
			p := at(ids.records[1])
			var env map[string]any
			if err := json.Unmarshal(p.envelope, &env); err != nil {
				t.Fatal(err)
			}
			payload := env["payload"].(map[string]any)
			payload["basis"].(map[string]any)["document_no"] = "(2026)闽02执999号"
			edited, _ := json.Marshal(env)
			exec(`UPDATE txs SET envelope = $1 WHERE tx_id = $2`, edited, ids.records[1])
			return p.height, "txs", fmt.Sprintf("tx_id=%s position %d", ids.records[1], p.position)
		}, ""},
		{"block header edited", func(t *testing.T) (uint64, string, string) {
			p := at(ids.records[2])
			var raw string
			if err := store.Pool.QueryRow(ctx, `SELECT header FROM blocks WHERE height = $1`, int64(p.height)).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			h, err := block.DecodeHeader([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			h.View++ // a leader the quorum never signed for
			edited, _ := json.Marshal(h)
			exec(`UPDATE blocks SET header = $1 WHERE height = $2`, string(edited), int64(p.height))
			return p.height, "blocks", fmt.Sprintf("height=%d", p.height)
		}, ""},
		{"block hash replaced", func(t *testing.T) (uint64, string, string) {
			p := at(ids.report)
			fake := fmt.Sprintf("%x", sha256.Sum256([]byte("forged")))
			exec(`UPDATE blocks SET hash = $1 WHERE height = $2`, fake, int64(p.height))
			return p.height, "blocks", fmt.Sprintf("height=%d", p.height)
		}, ""},
		{"transaction row deleted", func(t *testing.T) (uint64, string, string) {
			p := at(ids.records[3])
			exec(`DELETE FROM txs WHERE tx_id = $1`, ids.records[3])
			return p.height, "txs", fmt.Sprintf("position %d", p.position)
		}, ""},
		{"record status edited", func(t *testing.T) (uint64, string, string) {
			exec(`UPDATE records SET status = 'active', doc = jsonb_set(doc::jsonb, '{status}', '"active"')::json WHERE record_id = $1`, ids.records[0])
			return 0, "records", "record_id=" + ids.records[0]
		}, `status "active" but replay says "exited"`},
		{"record documents swapped", func(t *testing.T) (uint64, string, string) {
			a, b := ids.records[2], ids.records[3]
			exec(`UPDATE records r SET doc = o.doc FROM records o
				WHERE (r.record_id = $1 AND o.record_id = $2) OR (r.record_id = $2 AND o.record_id = $1)`, a, b)
			return 0, "records", "record_id=" + min(a, b)
		}, ""},
		{"log node edited", func(t *testing.T) (uint64, string, string) {
			p := at(ids.records[4])
			forged := sha256.Sum256([]byte("forged node"))
			exec(`UPDATE log_nodes SET hash = $1 WHERE level = 0 AND idx = $2`, forged[:], p.leaf)
			return p.height, "log_nodes", fmt.Sprintf("level=0 idx=%d", p.leaf)
		}, ""},
		{"head rolled back", func(t *testing.T) (uint64, string, string) {
			h, err := store.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE head SET height = height - 1, hash = $1`, h.Header.Prev)
			return h.Height + 1, "head", ""
		}, ""},
	}

	// Sound to begin with, through the CLI exactly as an operator runs it.
	out := runLedger(t, 0, "verify", "--database", url, "--quiet")
	if !strings.HasPrefix(out, "sound: height ") {
		t.Fatalf("verify of a sound replica: %q", out)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			height, table, row := c.tamper(t)
			rep, err := audit.Verify(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			p := rep.Problem
			if p == nil {
				t.Fatal("the audit found nothing")
			}
			t.Logf("found: %v", p)
			if p.Table != table || !strings.Contains(p.Row, row) || !strings.Contains(p.Error(), c.detail) {
				t.Fatalf("found %v, want table %s row %q %s", p, table, row, c.detail)
			}
			if p.InChain() {
				if p.Height != height {
					t.Fatalf("found at height %d, want %d: %v", p.Height, height, p)
				}
				if rep.Height != height-1 {
					t.Fatalf("sound up to %d, want %d", rep.Height, height-1)
				}
			}
			if i == 0 {
				// The CLI names the same height and row, exits 1, and repairs.
				out := runLedger(t, 1, "verify", "--database", url, "--quiet")
				if !strings.Contains(out, fmt.Sprintf("height %d: txs row %s", height, row)) {
					t.Fatalf("verify output: %q", out)
				}
				out = runLedger(t, 0, "repair", "--database", url, "--nats", n.NATSURL, "--quiet")
				if !strings.Contains(out, fmt.Sprintf("repaired from height %d: ", height)) {
					t.Fatalf("repair output: %q", out)
				}
			} else {
				rr, err := audit.Repair(ctx, store, audit.RepairOptions{JetStream: js, Log: t.Logf})
				if err != nil {
					t.Fatal(err)
				}
				if !rr.Changed || rr.After.Problem != nil {
					t.Fatalf("repair: changed %v, after: %v", rr.Changed, rr.After.Problem)
				}
				// Blocks were cut and must come back, unless the damage lay
				// past the last block (the head row, stray rows).
				if p.InChain() && (rr.From != height || (height <= rep.Stored && rr.Applied == 0)) {
					t.Fatalf("repaired from %d with %d blocks, want from %d", rr.From, rr.Applied, height)
				}
			}
			rep, err = audit.Verify(ctx, store)
			if err != nil || !rep.Sound() {
				t.Fatalf("after repair: %v %v", err, rep.Problem)
			}
			matchesOthers(t, n, victim, store)
		})
	}

	t.Run("genesis anchor and usage", func(t *testing.T) {
		dir := t.TempDir()
		good, _ := json.Marshal(n.Genesis)
		other := *n.Genesis
		other.Time = "2020-01-01T00:00:00Z"
		bad, _ := json.Marshal(&other)
		for name, data := range map[string][]byte{"good.json": good, "bad.json": bad} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		runLedger(t, 0, "verify", "--database", url, "--genesis", filepath.Join(dir, "good.json"), "--quiet")
		out := runLedger(t, 1, "verify", "--database", url, "--genesis", filepath.Join(dir, "bad.json"), "--quiet")
		if !strings.Contains(out, "height 0: chain_meta row key=genesis") {
			t.Fatalf("verify against another genesis: %q", out)
		}
		runLedger(t, 2)
		runLedger(t, 2, "audit")
		if out := runLedger(t, 0, "help"); !strings.Contains(out, "ledger repair --database URL --nats URL") {
			t.Fatalf("help: %q", out)
		}
		runLedger(t, 2, "verify")
		runLedger(t, 2, "repair", "--database", url)
		runLedger(t, 2, "verify", "--database", url, "extra")
	})

	// The repaired replica goes on with its own replicator, whose durable
	// consumer acknowledged the re-applied blocks long ago.
	if err := n.StartReplicator(ctx, victim); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, n, 30*time.Second)
	other := n.Replicator(n.Institutions[court].Member.ID).Store()
	if rep, err := audit.Verify(ctx, other); err != nil || !rep.Sound() {
		t.Fatalf("a running replica does not verify: %v %v", err, rep.Problem)
	}
}

// sample is what commitSample committed.
type sample struct {
	records []string // record.create tx ids (records[0] exited)
	report  string
}

// commitSample commits records of two recorders, a report, an attestation
// and an exit, and waits for every one.
func commitSample(t *testing.T, n *devnet.Network) sample {
	courtS, marketS, bankS := newSigner(n, court), newSigner(n, market), newSigner(n, bank)
	start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	var s sample
	send := func(env *txn.Envelope, id string) {
		t.Helper()
		if r := submit(t, n, env, nil); r.Status != 202 {
			t.Fatalf("submit %s: %d %s", env.Type, r.Status, r.Raw)
		}
		if r := waitStatus(t, n, id, 20*time.Second); r.Body["status"] != "committed" {
			t.Fatalf("%s not committed: %s", env.Type, r.Raw)
		}
	}
	for i := range 4 {
		env, id := courtS.sign(t, "record.create", recordCreate(orgCode(t, 100+i), "court-defaulter", "court-defaulter", start, "P2Y"))
		send(env, id)
		s.records = append(s.records, id)
	}
	env, id := marketS.sign(t, "record.create", recordCreate(orgCode(t, 110), "general-dishonesty", "general-dishonesty", start, "P1Y"))
	send(env, id)
	s.records = append(s.records, id)
	env, s.report = bankS.sign(t, "report.submit", map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": orgCode(t, 111), "name": "厦门某某贸易有限公司"},
		"category": "general-dishonesty", "facts": "逾期未履行合同义务"})
	send(env, s.report)
	env, id = courtS.sign(t, "record.attest", map[string]any{"record_id": s.records[0], "kind": "performed",
		"at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))})
	send(env, id)
	env, id = courtS.sign(t, "record.exit", map[string]any{"record_id": s.records[0], "policy": "court-defaulter", "version": 1,
		"reason": "obligations performed"})
	send(env, id)
	return s
}

// txPlace is where a transaction sits in a replica.
type txPlace struct {
	height   uint64
	position int
	leaf     int64
	envelope []byte
}

func placeOf(t *testing.T, s *pgstore.Store, id string) txPlace {
	t.Helper()
	var p txPlace
	var h int64
	var pos int32
	if err := s.Pool.QueryRow(context.Background(), `SELECT height, position, leaf_index, envelope FROM txs WHERE tx_id = $1`, id).
		Scan(&h, &pos, &p.leaf, &p.envelope); err != nil {
		t.Fatalf("transaction %s: %v", id, err)
	}
	p.height, p.position = uint64(h), int(pos)
	return p
}

// runLedger runs `creditchain ledger ARGS` in-process and checks its exit
// code; it returns stdout.
func runLedger(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := ledgercmd.Run(args, &stdout, &stderr); code != want {
		t.Fatalf("creditchain ledger %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// matchesOthers checks the repaired replica's head block is the block every
// other replica holds at that height.
func matchesOthers(t *testing.T, n *devnet.Network, victim string, s *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range n.Institutions {
		r := n.Replicator(in.Member.ID)
		if in.Member.ID == victim || r == nil {
			continue
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			h, err := r.Store().Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Height >= head.Height {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s stuck at %d below %d", in.Member.ID, h.Height, head.Height)
			}
			time.Sleep(50 * time.Millisecond)
		}
		hash, err := r.Store().BlockHash(ctx, head.Height)
		if err != nil {
			t.Fatal(err)
		}
		if hash != head.Hash {
			t.Fatalf("replica %s holds %s at height %d, the repaired one %s", in.Member.ID, hash, head.Height, head.Hash)
		}
	}
}
