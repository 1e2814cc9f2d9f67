package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/creditchain/creditchain/services/query"
	"github.com/jackc/pgx/v5/pgxpool"
)

// personID is the contract's example citizen ID (DESIGN 9.6) and its mask.
const (
	personID     = "11010519491231002X"
	personMasked = "110105********002X"
	personName   = "欧阳娜"
	personNameMk = "欧**"
	// dualCode is valid both as a USCC (GB 32100) and as a citizen ID.
	dualCode   = "110105199904030004"
	dualMasked = "110105********0004"
)

// TestQueryAPI runs every endpoint of the query service against a real
// network: shapes against the contract and the served OpenAPI document,
// masking, refusals, proofs, limits, API keys and the access log.
func TestQueryAPI(t *testing.T) {
	n := startNetwork(t, devnet.Options{PortalPort: -1})
	ctx := context.Background()
	centerID := n.Institutions[center].Member.ID
	for _, in := range n.Institutions {
		if n.QueryURLByID[in.Member.ID] == "" {
			t.Fatalf("institution %s has no query URL: %v", in.Member.ID, n.QueryURLByID)
		}
	}
	base := n.QueryURLByID[centerID]
	su, _ := suite.ByName(n.Genesis.CryptoSuite)
	hasher := merklelog.NewHasher(su)

	dbURL, err := n.ReplicaURL(ctx, centerID)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	token, key, err := query.CreateAPIKey(ctx, pool, "某某银行征信查询", 100_000, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	anon := newQClient(t, base)
	c := anon.withKey(token)

	courtS, marketS := newSigner(n, court), newSigner(n, market)
	start := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	orgA, orgB, orgC, orgUnknown := orgCode(t, 301), orgCode(t, 302), orgCode(t, 303), orgCode(t, 399)

	recA := commit(t, n, courtS, "record.create", recordCreate(orgA, "court-defaulter", "court-defaulter", start, "P2Y"), nil)
	_, _ = waitConverged(t, n, 30*time.Second)
	head1 := c.get("/v1/ledger/head")
	if head1.Status != 200 {
		t.Fatalf("head: %d %s", head1.Status, head1.Raw)
	}

	// An exited record, an unpublished (minor) one and two records of one
	// person, each with its own salt and so its own commitment.
	recB := commit(t, n, courtS, "record.create", recordCreate(orgB, "court-defaulter", "court-defaulter", start, "P2Y"), nil)
	attB := commit(t, n, courtS, "record.attest", map[string]any{"record_id": recB, "kind": "performed", "at": txn.FormatTime(time.Now().UTC().Add(-time.Minute))}, nil)
	// The network's exit-contract may exit the record first; either exit
	// will do.
	exitEnv, exitID := courtS.sign(t, "record.exit", map[string]any{"record_id": recB, "policy": "court-defaulter", "version": 1, "reason": "obligations performed"})
	if r := submit(t, n, exitEnv, nil); r.Status != 202 {
		t.Fatalf("submit exit: %d %s", r.Status, r.Raw)
	}
	if r := waitStatus(t, n, exitID, 30*time.Second); r.Body["status"] != "committed" && r.Body["reason"] != "invalid_status" {
		t.Fatalf("exit: %s", r.Raw)
	}
	commit(t, n, marketS, "record.create", recordCreate(orgC, "minor-dishonesty", "minor-dishonesty", start, "P3M"), nil)
	var personRecs, commitments []string
	for i := range 2 {
		p := &txn.Personal{Name: personName, IDNumber: personID, Salt: newSalt(t)}
		cm, err := txn.Commitment(su, p)
		if err != nil {
			t.Fatal(err)
		}
		commitments = append(commitments, cm)
		personRecs = append(personRecs, commit(t, n, marketS, "record.create",
			personPayload(cm, "general-dishonesty", start, "P1Y", fmt.Sprintf("厦市监罚〔2026〕%d号", 10+i)), p))
	}
	// A code valid both as a USCC and as a citizen ID, recorded once as
	// each.
	dualOrg := commit(t, n, courtS, "record.create", recordCreate(dualCode, "court-defaulter", "court-defaulter", start, "P2Y"), nil)
	dualP := &txn.Personal{Name: "李四", IDNumber: dualCode, Salt: newSalt(t)}
	dualCm, err := txn.Commitment(su, dualP)
	if err != nil {
		t.Fatal(err)
	}
	dualPerson := commit(t, n, marketS, "record.create", personPayload(dualCm, "general-dishonesty", start, "P1Y", "厦市监罚〔2026〕99号"), dualP)
	_, _ = waitConverged(t, n, 30*time.Second)

	t.Run("code valid under both schemes", func(t *testing.T) {
		r := c.do("POST", "/v1/subjects/lookup", []byte(`{"code":"`+dualCode+`"}`))
		if r.Status != 200 || r.Body["kind"] != "organization" || r.Body["code"] != dualMasked || r.Body["status"] != "listed" {
			t.Fatalf("dual look-up: %d %s", r.Status, r.Raw)
		}
		kinds := map[string]string{}
		for _, x := range arr(r.Body["records"]) {
			rec := obj(x)
			kinds[rec["record_id"].(string)] = obj(rec["subject"])["kind"].(string)
			if sub := obj(rec["subject"]); sub["kind"] == "person" && (sub["code"] != dualMasked || sub["name"] != "李*") {
				t.Errorf("person subject %v", sub)
			}
		}
		if len(kinds) != 2 || kinds[dualOrg] != "organization" || kinds[dualPerson] != "person" {
			t.Errorf("records %v, want %s as organization and %s as person", kinds, dualOrg, dualPerson)
		}
		var rows int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE subject = $1 AND commitments = $2`, dualMasked, []string{dualCm}).Scan(&rows)
		if rows != 1 {
			t.Errorf("%d access-log rows for the look-up, want 1", rows)
		}
	})

	t.Run("organization look-up", func(t *testing.T) {
		r := c.get("/v1/subjects/" + orgA)
		if r.Status != 200 || r.Body["code"] != orgA || r.Body["kind"] != "organization" || r.Body["status"] != "listed" {
			t.Fatalf("look-up of %s: %d %s", orgA, r.Status, r.Raw)
		}
		wantKeys(t, "answer", r.Body, "code", "kind", "status", "records")
		recs := arr(r.Body["records"])
		if len(recs) != 1 || obj(recs[0])["record_id"] != recA {
			t.Fatalf("records %s", r.Raw)
		}
		rec := obj(recs[0])
		if _, ok := rec["history"]; ok {
			t.Error("a look-up's record summary carries history")
		}
		if sub := obj(rec["subject"]); sub["kind"] != "organization" || sub["uscc"] != orgA || sub["code"] != orgA || sub["name"] != "厦门某某有限公司" {
			t.Errorf("subject %v", sub)
		}
		if rec["status"] != "active" || rec["category"] != "court-defaulter" || rec["term"] != "P2Y" || rec["authority"] != n.Institutions[court].Member.ID {
			t.Errorf("record %v", rec)
		}
		// The body form answers alike.
		p := c.do("POST", "/v1/subjects/lookup", []byte(`{"code":"`+orgA+`"}`))
		if p.Status != 200 || !bytes.Equal(p.Raw, r.Raw) {
			t.Errorf("POST look-up differs: %d %s", p.Status, p.Raw)
		}
		for code, why := range map[string]string{orgB: "exited", orgC: "unpublished category only", orgUnknown: "unknown"} {
			r := c.get("/v1/subjects/" + code)
			if r.Status != 200 || r.Body["status"] != "clear" || len(arr(r.Body["records"])) != 0 || r.Body["records"] == nil {
				t.Errorf("%s (%s): %d %s", code, why, r.Status, r.Raw)
			}
		}
	})

	t.Run("person look-up is masked and logged", func(t *testing.T) {
		for _, r := range []response{
			c.do("POST", "/v1/subjects/lookup", []byte(`{"code":"`+personID+`"}`)),
			c.get("/v1/subjects/" + personID),
		} {
			if r.Status != 200 || r.Body["code"] != personMasked || r.Body["kind"] != "person" || r.Body["status"] != "listed" {
				t.Fatalf("person look-up: %d %s", r.Status, r.Raw)
			}
			if bytes.Contains(r.Raw, []byte(personID)) || bytes.Contains(r.Raw, []byte(personName)) {
				t.Fatalf("answer shows the full ID number or name: %s", r.Raw)
			}
			var got []string
			for _, x := range arr(r.Body["records"]) {
				rec := obj(x)
				got = append(got, rec["record_id"].(string))
				sub := obj(rec["subject"])
				wantKeys(t, "person subject", sub, "kind", "code", "name", "commitment")
				if sub["code"] != personMasked || sub["name"] != personNameMk || !slices.Contains(commitments, sub["commitment"].(string)) {
					t.Errorf("person subject %v", sub)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(personRecs))
			if !slices.Equal(got, want) {
				t.Errorf("person records %v, want %v", got, want)
			}
		}
		var rows int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE who = $1 AND subject = $2
			AND commitments @> $3 AND cardinality(commitments) = 2 AND address = '127.0.0.1'`, key.ID, personMasked, commitments).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 2 {
			t.Errorf("%d access-log rows for the two look-ups, want 2", rows)
		}
		var leaked, orgRows int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE subject = $1 OR $1 = ANY(commitments)`, personID).Scan(&leaked)
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE subject = $1`, orgA).Scan(&orgRows)
		if leaked != 0 || orgRows != 0 {
			t.Errorf("access log holds the full ID (%d rows) or organization look-ups (%d rows)", leaked, orgRows)
		}
		// The log is append-only.
		if _, err := pool.Exec(ctx, `UPDATE access_log SET who = 'nobody'`); err == nil {
			t.Error("access_log accepted an UPDATE")
		}
		if _, err := pool.Exec(ctx, `DELETE FROM access_log`); err == nil {
			t.Error("access_log accepted a DELETE")
		}
	})

	var headSize uint64
	t.Run("record documents", func(t *testing.T) {
		r := c.get("/v1/records/" + recA)
		if r.Status != 200 {
			t.Fatalf("record: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "record", r.Body, "record_id", "subject", "category", "authority", "basis", "start", "term", "measures", "policy", "status", "history", "proof")
		wantKeys(t, "policy", obj(r.Body["policy"]), "id", "version")
		hist := arr(r.Body["history"])
		if len(hist) != 1 || obj(hist[0])["tx_id"] != recA || obj(hist[0])["type"] != "record.create" {
			t.Fatalf("history %v", hist)
		}
		wantKeys(t, "history entry", obj(hist[0]), "tx_id", "type", "height", "time")
		height := uint64(obj(hist[0])["height"].(float64))
		proof := decodeInclusion(t, r.Body["proof"])
		if proof.TxID != recA {
			t.Fatalf("proof of %s, want %s", proof.TxID, recA)
		}
		checkInclusion(t, c, hasher, su, proof, height)
		headSize = proof.TreeSize

		b := c.get("/v1/records/" + recB)
		if b.Status != 200 || b.Body["status"] != "exited" {
			t.Fatalf("exited record: %d %s", b.Status, b.Raw)
		}
		exit := obj(b.Body["exit"])
		wantKeys(t, "exit", exit, "tx_id", "height", "reason")
		exitB, _ := exit["tx_id"].(string)
		if exit["reason"] == "" || exit["height"] == nil {
			t.Errorf("exit %v", exit)
		}
		var types, txs []string
		for _, h := range arr(b.Body["history"]) {
			types = append(types, obj(h)["type"].(string))
			txs = append(txs, obj(h)["tx_id"].(string))
		}
		if !slices.Equal(types[:3], []string{"record.create", "record.attest", "record.exit"}) || !slices.Equal(txs[:3], []string{recB, attB, exitB}) {
			t.Errorf("history %v %v", types, txs)
		}
		// A signer, when the network runs one, may have issued the
		// certificate by now: then it is referenced by number and URL.
		if cert, ok := b.Body["certificate"]; ok {
			wantKeys(t, "certificate", obj(cert), "cert_no", "url")
			if obj(cert)["url"] != "/v1/certificates/"+obj(cert)["cert_no"].(string) {
				t.Errorf("certificate %v", cert)
			}
		}
		if _, ok := r.Body["exit"]; ok {
			t.Error("an active record has an exit member")
		}

		p := c.get("/v1/records/" + personRecs[0])
		if p.Status != 200 || bytes.Contains(p.Raw, []byte(personID)) || bytes.Contains(p.Raw, []byte(personName)) {
			t.Fatalf("person record: %d %s", p.Status, p.Raw)
		}
		if sub := obj(p.Body["subject"]); sub["code"] != personMasked || sub["name"] != personNameMk || sub["commitment"] != commitments[0] {
			t.Errorf("person record subject %v", sub)
		}
		var logged int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE endpoint = 'GET /v1/records/{record_id}' AND commitments = $1`, []string{commitments[0]}).Scan(&logged)
		if logged != 1 {
			t.Errorf("%d access-log rows for the person's record document, want 1", logged)
		}

		for path, want := range map[string]string{
			"/v1/records/xyz":                         "malformed",
			"/v1/records/" + strings.ToUpper(recA):    "malformed",
			"/v1/records/" + recA + "00":              "malformed",
			"/v1/records/" + strings.Repeat("ab", 32): "not_found",
			"/v1/records/" + strings.Repeat("0", 64):  "not_found",
		} {
			r := c.get(path)
			if (want == "malformed" && r.Status != 400) || (want == "not_found" && r.Status != 404) || r.errorCode() != want {
				t.Errorf("GET %s: %d %s, want %s", path, r.Status, r.Raw, want)
			}
		}
	})

	t.Run("blocks, checkpoint and trust", func(t *testing.T) {
		g := c.get("/v1/ledger/blocks/0")
		if g.Status != 200 {
			t.Fatalf("genesis: %d %s", g.Status, g.Raw)
		}
		wantKeys(t, "genesis block", g.Body, "header", "hash", "cosignatures", "txs", "genesis")
		gh := obj(g.Body["header"])
		if len(arr(g.Body["cosignatures"])) != 0 || len(arr(g.Body["txs"])) != 0 || gh["prev"] != strings.Repeat("0", 64) ||
			gh["tx_root"] != hex.EncodeToString(hasher.EmptyRoot()) || obj(g.Body["genesis"])["chain_id"] != n.Genesis.ChainID {
			t.Errorf("genesis block %s", g.Raw)
		}
		h := c.get("/v1/ledger/head")
		wantKeys(t, "head", h.Body, "header", "hash", "cosignatures", "txs")
		if len(arr(h.Body["cosignatures"])) == 0 {
			t.Errorf("head without cosignatures: %s", h.Raw)
		}
		height := uint64(obj(h.Body["header"])["height"].(float64))
		same := c.get(fmt.Sprintf("/v1/ledger/blocks/%d", height))
		if same.Body["hash"] != h.Body["hash"] {
			t.Errorf("block %d differs from the head", height)
		}
		for path, status := range map[string]int{
			"/v1/ledger/blocks/abc": 400, "/v1/ledger/blocks/-1": 400, "/v1/ledger/blocks/01": 400,
			"/v1/ledger/blocks/1.5": 400, "/v1/ledger/blocks/99999999999999999999": 400,
			fmt.Sprintf("/v1/ledger/blocks/%d", height+1000): 404,
		} {
			if r := c.get(path); r.Status != status {
				t.Errorf("GET %s: %d %s, want %d", path, r.Status, r.Raw, status)
			}
		}

		tr := c.get("/v1/ledger/trust")
		want, err := n.TrustBundle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got block.TrustBundle
		if err := json.Unmarshal(tr.Raw, &got); err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(&got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("trust bundle differs from the network's:\n got %s\nwant %s", gj, wj)
		}

		resp, err := http.Get(base + "/v1/ledger/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("checkpoint: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		vs, err := got.NoteVerifiers(0)
		if err != nil {
			t.Fatal(err)
		}
		quorum, _ := got.QuorumSize(0)
		size, root, err := checkpoint.Verify(string(text), n.Genesis.ChainID, vs, quorum)
		if err != nil {
			t.Fatalf("checkpoint does not verify with the trust bundle: %v\n%s", err, text)
		}
		// The checkpoint's root is the log root of the block of that size.
		if cp := c.get(fmt.Sprintf("/v1/ledger/proofs/consistency?from=%d&to=%d", size, size)); cp.Body["to_root"] != hex.EncodeToString(root) {
			t.Errorf("checkpoint root %x, consistency says %v", root, cp.Body["to_root"])
		}
	})

	t.Run("proofs", func(t *testing.T) {
		whole := c.get("/v1/ledger/proofs/inclusion/" + recB)
		if whole.Status != 200 {
			t.Fatalf("inclusion: %d %s", whole.Status, whole.Raw)
		}
		wantKeys(t, "inclusion proof", whole.Body, "tx_id", "leaf_index", "tree_size", "root", "proof")
		p := decodeInclusion(t, whole.Body)
		checkInclusion(t, c, hasher, su, p, 0)
		// The smallest tree holding it: a size that is no block boundary in
		// general, so the root is computed from stored subtrees.
		at := c.get(fmt.Sprintf("/v1/ledger/proofs/inclusion/%s?size=%d", recB, p.LeafIndex+1))
		small := decodeInclusion(t, at.Body)
		if at.Status != 200 || small.TreeSize != p.LeafIndex+1 {
			t.Fatalf("inclusion at size: %d %s", at.Status, at.Raw)
		}
		checkInclusion(t, c, hasher, su, small, 0)
		for path, want := range map[string]int{
			fmt.Sprintf("/v1/ledger/proofs/inclusion/%s?size=%d", recB, p.TreeSize+1): 400,
			fmt.Sprintf("/v1/ledger/proofs/inclusion/%s?size=%d", recB, p.LeafIndex):  400,
			"/v1/ledger/proofs/inclusion/" + recB + "?size=abc":                       400,
			"/v1/ledger/proofs/inclusion/" + recB + "?size=-1":                        400,
			"/v1/ledger/proofs/inclusion/nothex":                                      400,
			"/v1/ledger/proofs/inclusion/" + strings.Repeat("cd", 32):                 404,
		} {
			r := c.get(path)
			code := map[int]string{400: "malformed", 404: "not_found"}[want]
			if r.Status != want || r.errorCode() != code {
				t.Errorf("GET %s: %d %s, want %d %s", path, r.Status, r.Raw, want, code)
			}
		}

		// Consistency between the head seen before most records and now.
		h1 := obj(head1.Body["header"])
		head2 := c.get("/v1/ledger/head")
		h2 := obj(head2.Body["header"])
		s1, s2 := uint64(h1["log_size"].(float64)), uint64(h2["log_size"].(float64))
		if s1 >= s2 {
			t.Fatalf("log did not grow: %d then %d", s1, s2)
		}
		cr := c.get(fmt.Sprintf("/v1/ledger/proofs/consistency?from=%d&to=%d", s1, s2))
		if cr.Status != 200 {
			t.Fatalf("consistency: %d %s", cr.Status, cr.Raw)
		}
		wantKeys(t, "consistency proof", cr.Body, "from", "to", "from_root", "to_root", "proof")
		var cp merklelog.ConsistencyProof
		if err := json.Unmarshal(cr.Raw, &cp); err != nil {
			t.Fatal(err)
		}
		if cp.FromRoot != h1["log_root"] || cp.ToRoot != h2["log_root"] {
			t.Errorf("consistency roots %s %s, heads say %v %v", cp.FromRoot, cp.ToRoot, h1["log_root"], h2["log_root"])
		}
		if err := cp.Verify(hasher); err != nil {
			t.Errorf("consistency proof between two heads does not verify: %v", err)
		}
		// Sizes inside blocks, and from the empty tree.
		for _, q := range [][2]uint64{{1, s2}, {s1 + 1, s2 - 1}, {0, s2}, {s2, s2}} {
			r := c.get(fmt.Sprintf("/v1/ledger/proofs/consistency?from=%d&to=%d", q[0], q[1]))
			var p merklelog.ConsistencyProof
			if err := json.Unmarshal(r.Raw, &p); err != nil || r.Status != 200 {
				t.Fatalf("consistency %v: %d %s", q, r.Status, r.Raw)
			}
			if err := p.Verify(hasher); err != nil {
				t.Errorf("consistency %v does not verify: %v", q, err)
			}
		}
		for _, q := range []string{fmt.Sprintf("from=%d&to=%d", s2, s1), fmt.Sprintf("from=1&to=%d", s2+headSize+1000), "to=3", "from=x&to=3", "from=1&to=02"} {
			if r := c.get("/v1/ledger/proofs/consistency?" + q); r.Status != 400 || r.errorCode() != "malformed" {
				t.Errorf("consistency?%s: %d %s, want 400 malformed", q, r.Status, r.Raw)
			}
		}
	})

	t.Run("no enumeration", func(t *testing.T) {
		for _, path := range []string{
			"/v1/subjects/9135", "/v1/subjects/%25", "/v1/subjects/*", "/v1/subjects/9135%25", "/v1/subjects/913502*",
			"/v1/subjects/" + orgA[:17] + "%25", "/v1/subjects/" + strings.ToLower(orgA), "/v1/subjects/%20" + orgA,
			"/v1/subjects", "/v1/subjects/", "/v1/subjects/" + orgA + "?page=2", "/v1/subjects/" + orgA + "?limit=1000",
			"/v1/subjects/" + orgA + "?offset=10", "/v1/subjects/" + orgA + "?prefix=1", "/v1/subjects/11010519491231002x",
		} {
			r := c.get(path)
			if r.Status != 400 || bytes.Contains(r.Raw, []byte("records")) {
				t.Errorf("GET %s: %d %s, want 400 without data", path, r.Status, r.Raw)
			}
		}
		for _, body := range []string{`{"code":"9135"}`, `{"code":"%"}`, `{"code":"*"}`, `{"code":"` + orgA + `","page":2}`,
			`{"code":["` + orgA + `"]}`, `{}`, `not json`, `{"code":"` + orgA + `"} {"code":"` + orgB + `"}`} {
			r := c.do("POST", "/v1/subjects/lookup", []byte(body))
			if r.Status != 400 || bytes.Contains(r.Raw, []byte("records")) {
				t.Errorf("POST %s: %d %s, want 400 without data", body, r.Status, r.Raw)
			}
		}
		if r := c.do("POST", "/v1/subjects/lookup?page=2", []byte(`{"code":"`+orgA+`"}`)); r.Status != 400 {
			t.Errorf("POST look-up with paging: %d %s", r.Status, r.Raw)
		}
		if r := c.do("POST", "/v1/subjects/lookup", []byte(`{"code":"`+strings.Repeat("9", 5000)+`"}`)); r.Status != 413 {
			t.Errorf("oversized look-up: %d", r.Status)
		}
	})

	// The certificate endpoints in full are e2e/portal_test.go's; here
	// their refusals, validated against the document like every answer.
	t.Run("certificate refusals", func(t *testing.T) {
		for _, r := range []response{
			c.get("/v1/certificates/CC-2026-000001"), c.get("/v1/certificates/CC-2026-000001.pdf"),
			c.get("/v1/certificates/CC-2026-0000000000000001"),
			c.do("POST", "/v1/certificates/request", []byte(`{"code":"`+orgB+`","document_no":"x"}`)),
		} {
			if r.Status != 404 || r.errorCode() != "not_found" {
				t.Errorf("certificate endpoint: %d %s", r.Status, r.Raw)
			}
		}
		r := c.do("POST", "/v1/certificates/verify", []byte(`{"jws":"a.b.c"}`))
		if r.Status != 200 || r.Body["valid"] != false || !strings.HasPrefix(fmt.Sprint(r.Body["reason"]), "format") {
			t.Errorf("verify of a non-JWS: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("API keys", func(t *testing.T) {
		// Through the real command, as an operator would.
		out, errOut := runAPIKey(t, 0, "create", "--database", dbURL, "--name", "将被吊销", "--per-minute", "600", "--per-day", "1000")
		tok := strings.TrimSpace(out)
		if !strings.HasPrefix(tok, "cck_") || strings.Contains(tok, "\n") {
			t.Fatalf("apikey create printed %q", out)
		}
		kc := anon.withKey(tok)
		if r := kc.get("/v1/subjects/" + orgA); r.Status != 200 {
			t.Fatalf("new key: %d %s", r.Status, r.Raw)
		}
		var keys []query.APIKey
		list, _ := runAPIKey(t, 0, "list", "--json", "--database", dbURL)
		if err := json.Unmarshal([]byte(list), &keys); err != nil {
			t.Fatalf("apikey list --json: %v\n%s", err, list)
		}
		k := keys[len(keys)-1]
		if k.Name != "将被吊销" || k.PerMinute != 600 || k.PerDay != 1000 || k.UsedToday != 1 || k.RevokedAt != nil || !strings.Contains(errOut, k.ID) {
			t.Fatalf("listed %+v; create said %q", k, errOut)
		}
		runAPIKey(t, 0, "revoke", k.ID, "--database", dbURL)
		if r := kc.get("/v1/subjects/" + orgA); r.Status != 401 || r.errorCode() != "revoked_api_key" {
			t.Errorf("revoked key: %d %s", r.Status, r.Raw)
		}
		if r := anon.withKey(tok + "x").get("/v1/subjects/" + orgA); r.Status != 401 || r.errorCode() != "invalid_api_key" {
			t.Errorf("unknown key: %d %s", r.Status, r.Raw)
		}
		runAPIKey(t, 1, "revoke", "--database", dbURL, "0000000000000000")
		table, _ := runAPIKey(t, 0, "list", "--database", dbURL)
		if !strings.Contains(table, k.ID) || strings.Contains(table, tok) {
			t.Errorf("apikey list:\n%s", table)
		}
		// Only the hash is stored.
		var stored int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE hash = sha256(convert_to($1, 'UTF8')) AND revoked_at IS NOT NULL`, tok).Scan(&stored)
		if stored != 1 {
			t.Errorf("%d revoked keys stored under the token's SHA-256, want 1", stored)
		}

		// A daily quota of 2: the third look-up is refused until tomorrow
		// and not counted.
		qt, qk, _ := query.CreateAPIKey(ctx, pool, "小额度", 600, 2)
		qc := anon.withKey(qt)
		for i := range 2 {
			if r := qc.get("/v1/subjects/" + orgA); r.Status != 200 {
				t.Fatalf("look-up %d within quota: %d", i+1, r.Status)
			}
		}
		r := qc.get("/v1/subjects/" + orgA)
		if r.Status != 429 || r.errorCode() != "quota_exceeded" {
			t.Fatalf("over quota: %d %s", r.Status, r.Raw)
		}
		checkRetryAfter(t, base+"/v1/subjects/"+orgA, qt, 1, 86400)
		var used int
		_ = pool.QueryRow(ctx, `SELECT count FROM api_key_usage WHERE key_id = $1`, qk.ID).Scan(&used)
		if used != 2 {
			t.Errorf("usage %d, want 2 (refusals are not counted)", used)
		}
		// 10 a minute: a burst of 1, then one every 6 s.
		rt, _, _ := query.CreateAPIKey(ctx, pool, "慢速", 10, 1000)
		if r := anon.withKey(rt).get("/v1/subjects/" + orgA); r.Status != 200 {
			t.Fatalf("first look-up: %d", r.Status)
		}
		if r := anon.withKey(rt).get("/v1/subjects/" + orgA); r.Status != 429 || r.errorCode() != "rate_limited" {
			t.Errorf("second look-up at once: %d %s", r.Status, r.Raw)
		}
	})

	// Last, since it spends this address's anonymous allowance.
	t.Run("anonymous limit", func(t *testing.T) {
		if r := anon.do("POST", "/v1/subjects/lookup", []byte(`{"code":"`+personID+`"}`)); r.Status != 200 {
			t.Fatalf("anonymous person look-up: %d %s", r.Status, r.Raw)
		}
		var rows int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM access_log WHERE who = 'anonymous:127.0.0.1' AND subject = $1`, personMasked).Scan(&rows)
		if rows != 1 {
			t.Errorf("%d access-log rows for the anonymous look-up, want 1", rows)
		}
		ok, limited := 0, false
		for range 20 {
			r := anon.get("/v1/subjects/" + orgA)
			if r.Status == 429 {
				if r.errorCode() != "rate_limited" {
					t.Errorf("429 with code %q", r.errorCode())
				}
				limited = true
				break
			}
			ok++
		}
		// The burst is 10 and the first look-up above spent one; tokens
		// refill meanwhile (one every 2 s), a few on a loaded machine.
		if !limited || ok < 8 || ok > 12 {
			t.Fatalf("anonymous: %d admitted before the limit (limited %v), want the burst of 10 less one", ok, limited)
		}
		checkRetryAfter(t, base+"/v1/subjects/"+orgA, "", 1, 2)
		// The key's limits are its own, and the ledger is not limited.
		if r := c.get("/v1/subjects/" + orgA); r.Status != 200 {
			t.Errorf("API key limited by the anonymous bucket: %d", r.Status)
		}
		if r := anon.get("/v1/ledger/head"); r.Status != 200 {
			t.Errorf("ledger endpoint limited: %d", r.Status)
		}
	})

	if *anon.validated < 100 {
		t.Errorf("only %d answers were validated against the OpenAPI document", *anon.validated)
	}
	// Every institution's query service serves its own replica.
	for _, in := range n.Institutions {
		u := n.QueryURLByID[in.Member.ID]
		if r := get(t, u+"/readyz"); r.Status != 200 {
			t.Errorf("%s readyz: %d", in.Member.ID, r.Status)
		}
		if r := get(t, u+"/v1/ledger/blocks/0"); obj(r.Body)["hash"] == nil {
			t.Errorf("%s genesis: %d %s", in.Member.ID, r.Status, r.Raw)
		}
	}
}
