package audit

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/pkg/streams"
)

// envInt reads a size from the environment, for measuring larger chains.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestVerifySoundChain replays a chain whose membership changes midway:
// the later blocks carry a cosignature of the admitted recorder, valid
// only against the replayed epoch 1.
func TestVerifySoundChain(t *testing.T) {
	ctx := context.Background()
	c := newTestChain(t)
	blocks, per := envInt("AUDIT_BLOCKS", 40), envInt("AUDIT_TXS_PER_BLOCK", 25)
	c.sample(t, blocks, per)
	head, err := c.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Epoch != 1 {
		t.Fatalf("head epoch %d: the sample did not change the membership", head.Epoch)
	}
	var seen []uint64
	rep, err := Run(ctx, c.store, Options{Every: 10, Progress: func(p Progress) {
		if p.Head != head.Height {
			t.Errorf("progress head %d, want %d", p.Head, head.Height)
		}
		seen = append(seen, p.Height)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Sound() {
		t.Fatalf("sound chain reported damaged: %v", rep.Problem)
	}
	wantTxs := uint64(blocks*per + 1) // and the member.update
	if rep.Height != head.Height || rep.Blocks != head.Height+1 || rep.Txs != wantTxs || rep.Stored != head.Height {
		t.Fatalf("report height %d blocks %d txs %d stored %d; want %d, %d, %d", rep.Height, rep.Blocks, rep.Txs, rep.Stored, head.Height, head.Height+1, wantTxs)
	}
	if len(seen) != int(head.Height/10)+1 || seen[0] != 10 || seen[len(seen)-1] != head.Height {
		t.Fatalf("progress at %v", seen)
	}
	t.Logf("audited %d blocks, %d transactions in %s (%.0f tx/s)", rep.Blocks, rep.Txs, rep.Elapsed.Round(time.Millisecond),
		float64(rep.Txs)/rep.Elapsed.Seconds())

	part, err := Run(ctx, c.store, Options{Stop: 5})
	if err != nil || !part.Sound() || part.Height != 4 {
		t.Fatalf("replay to 5: %v %+v", err, part)
	}

	// A replica of another chain is refused when the genesis anchors trust.
	other := *c.g
	other.ChainID += "-other"
	rep, err = Run(ctx, c.store, Options{Genesis: &other})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Problem; p == nil || p.Table != "chain_meta" || p.Height != 0 {
		t.Fatalf("foreign genesis: %v", rep.Problem)
	}
}

// TestRepairFromStream damages a replica in the ways the end-to-end test
// does not, and repairs each from the stream back to the same head.
func TestRepairFromStream(t *testing.T) {
	ctx := context.Background()
	c := newTestChain(t)
	c.sample(t, 12, 6)
	want, err := c.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(t *testing.T, sql string, args ...any) {
		t.Helper()
		tag, err := c.store.Pool.Exec(ctx, sql, args...)
		if err != nil || tag.RowsAffected() == 0 {
			t.Fatalf("tamper %q: %v (%d rows)", sql, err, tag.RowsAffected())
		}
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T)
		height uint64 // 0 with a projection table
		table  string
		detail string
	}{
		{"cosignatures below quorum", func(t *testing.T) {
			exec(t, `UPDATE blocks SET cosignatures = jsonb_path_query_array(cosignatures, '$[0 to 1]') WHERE height = 3`)
		}, 3, "blocks", "quorum"},
		{"genesis row edited", func(t *testing.T) {
			exec(t, `UPDATE blocks SET header = replace(header, '"view":0', '"view":7') WHERE height = 0`)
		}, 0, "blocks", "genesis"},
		{"last block deleted", func(t *testing.T) {
			exec(t, `DELETE FROM txs WHERE height = $1`, int64(want.Height))
			exec(t, `DELETE FROM blocks WHERE height = $1`, int64(want.Height))
		}, want.Height, "log_nodes", "beyond the log"},
		{"wrong stream hint and a node beyond the log", func(t *testing.T) {
			exec(t, `UPDATE blocks SET stream_seq = 9999 WHERE height = $1`, int64(want.Height))
			exec(t, `INSERT INTO log_nodes (level, idx, hash) VALUES (0, $1, '\x00')`, int64(want.Log.Size())+3)
		}, want.Height + 1, "log_nodes", "beyond the log"},
		{"transaction row beyond tx_count", func(t *testing.T) {
			exec(t, `INSERT INTO txs (tx_id, height, position, leaf_index, type, submitter, envelope)
				SELECT reverse(tx_id), height, (SELECT count(*) FROM txs WHERE height = 5), leaf_index + 100000, type, submitter, envelope
				FROM txs WHERE height = 5 AND position = 0`)
		}, 5, "txs", "beyond the header"},
		{"epoch projection edited", func(t *testing.T) {
			exec(t, `UPDATE epochs SET from_height = from_height + 1 WHERE epoch = 1`)
		}, 0, "epochs", `from_height`},
		{"record missing from the projection", func(t *testing.T) {
			exec(t, `DELETE FROM records WHERE record_id = (SELECT min(record_id) FROM records)`)
		}, 0, "records", "row missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.tamper(t)
			rep, err := Verify(ctx, c.store)
			if err != nil {
				t.Fatal(err)
			}
			p := rep.Problem
			if p == nil || p.Table != tc.table || !strings.Contains(p.Error(), tc.detail) || (p.InChain() && p.Height != tc.height) {
				t.Fatalf("found %v; want height %d table %s %q", p, tc.height, tc.table, tc.detail)
			}
			var lines []string
			rr, err := Repair(ctx, c.store, RepairOptions{JetStream: c.js, Log: func(f string, a ...any) {
				lines = append(lines, f)
			}})
			if err != nil {
				t.Fatalf("repair: %v (log %q)", err, lines)
			}
			if !rr.Changed || !rr.After.Sound() {
				t.Fatalf("after repair: %v", rr.After.Problem)
			}
			if p.InChain() && rr.From != tc.height {
				t.Fatalf("repaired from %d, want %d", rr.From, tc.height)
			}
			head, err := c.store.Head(ctx)
			if err != nil || head.Hash != want.Hash || head.Height != want.Height {
				t.Fatalf("head after repair %v %v, want %d %s", err, head, want.Height, want.Hash)
			}
		})
	}

	// A sound replica is left alone unless a height is asked for.
	rr, err := Repair(ctx, c.store, RepairOptions{JetStream: c.js})
	if err != nil || rr.Changed {
		t.Fatalf("repair of a sound replica: %v changed %v", err, rr.Changed)
	}
	rr, err = Repair(ctx, c.store, RepairOptions{JetStream: c.js, FromHeight: 4})
	if err != nil || !rr.Changed || rr.From != 4 || rr.Applied != want.Height-3 || !rr.After.Sound() {
		t.Fatalf("repair from 4: %v %+v", err, rr)
	}
	// Without the stream's blocks a cut replica cannot come back: repair
	// must say so rather than leave it short and call it sound.
	if err := c.js.DeleteStream(ctx, streams.LedgerStream); err != nil {
		t.Fatal(err)
	}
	if err := streams.Ensure(ctx, c.js, streams.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Repair(ctx, c.store, RepairOptions{JetStream: c.js, FromHeight: 4}); err == nil || !strings.Contains(err.Error(), "another replica") {
		t.Fatalf("repair without the stream's blocks: %v", err)
	}
}

func TestFirstDiff(t *testing.T) {
	cases := []struct{ got, want, diff string }{
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, ""},
		{`{"status":"active"}`, `{"status":"exited"}`, `doc.status "active" but replay says "exited"`},
		{`{"a":{"b":[1,2]}}`, `{"a":{"b":[1,3]}}`, `doc.a.b[1] 2 but replay says 3`},
		{`{"a":[1]}`, `{"a":[1,2]}`, `doc.a has 1 items but replay says 2`},
		{`{"a":1,"x":true}`, `{"a":1}`, `doc.x true but replay has none`},
		{`{}`, `{"a":null}`, `doc.a absent but replay says null`},
		{`{"a":"1"}`, `{"a":1}`, `doc.a "1" but replay says 1`},
	}
	for _, c := range cases {
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatal(err)
		}
		got, err := docDiff([]byte(c.got), want)
		if err != nil || got != c.diff {
			t.Errorf("docDiff(%s, %s) = %q, %v; want %q", c.got, c.want, got, err, c.diff)
		}
	}
}

// Problem texts name the height only for the chain.
func TestProblemText(t *testing.T) {
	p := problem(12, "txs", "tx_id=ab position 3", "envelope does not match")
	if got := p.Error(); got != "height 12: txs row tx_id=ab position 3: envelope does not match" {
		t.Fatalf("chain problem: %q", got)
	}
	p = problem(40, "records", "record_id=cd", `status "active" but replay says "exited"`)
	if got := p.Error(); got != `records row record_id=cd: status "active" but replay says "exited"` || p.InChain() {
		t.Fatalf("projection problem: %q", got)
	}
}
