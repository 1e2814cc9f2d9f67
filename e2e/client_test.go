package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/creditchain/creditchain/cmd/creditchain/devnet"
	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

func TestMain(m *testing.M) {
	code := harness.RunTests(m)
	if faultBinDir != "" {
		os.RemoveAll(faultBinDir)
	}
	os.Exit(code)
}

// startNetwork starts a dev network on the shared harness with its own NATS.
func startNetwork(t *testing.T, opts devnet.Options) *devnet.Network {
	t.Helper()
	env := harness.Shared(t)
	opts.Env, opts.OwnNATS = env, true
	opts.Dir = t.TempDir()
	if opts.IntakePort == 0 {
		opts.IntakePort = -1
	}
	if opts.BlockInterval == 0 {
		opts.BlockInterval = 50 * time.Millisecond
	}
	if opts.IdleInterval == 0 {
		opts.IdleInterval = 500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := devnet.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start network: %v", err)
	}
	t.Cleanup(n.Close)
	return n
}

// signer signs transactions as one institution.
type signer struct {
	chain string
	suite suite.Suite
	key   *suite.KeyFile
	clock func() time.Time
}

func newSigner(n *devnet.Network, i int) *signer {
	s, _ := suite.ByName(n.Genesis.CryptoSuite)
	return &signer{chain: n.Genesis.ChainID, suite: s, key: n.Institutions[i].Key, clock: time.Now}
}

func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sign builds and signs an envelope of type typ with payload p.
func (s *signer) sign(t testing.TB, typ string, p any) (*txn.Envelope, string) {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	env := &txn.Envelope{Chain: s.chain, Type: typ, Submitter: s.key.Institution, Nonce: nonce(),
		CreatedAt: txn.FormatTime(s.clock().UTC()), Payload: raw}
	if err := txn.Sign(env, s.suite, s.key.PrivateKey(), s.key.KeyID); err != nil {
		t.Fatal(err)
	}
	id, err := env.ID(s.suite)
	if err != nil {
		t.Fatal(err)
	}
	return env, id
}

type response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

func (r response) errorCode() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	return ""
}

func post(t testing.TB, url string, body []byte) response {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func get(t testing.TB, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func submit(t testing.TB, n *devnet.Network, env *txn.Envelope, personal *txn.Personal) response {
	t.Helper()
	body, err := json.Marshal(txn.Submission{Tx: env, Personal: personal})
	if err != nil {
		t.Fatal(err)
	}
	return post(t, n.IntakeURL+"/v1/transactions", body)
}

// waitStatus polls a transaction until it leaves pending.
func waitStatus(t testing.TB, n *devnet.Network, id string, within time.Duration) response {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := get(t, n.IntakeURL+"/v1/transactions/"+id)
		if r.Status == 200 && r.Body["status"] != "pending" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %s still %v after %s: %s", id, r.Body["status"], within, r.Raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orgCode returns the i-th valid organization USCC for test subjects.
func orgCode(t testing.TB, i int) string {
	t.Helper()
	c, err := devnet.DevUSCC(1000 + i)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func recordCreate(subject, category, policy string, start time.Time, term string) map[string]any {
	p := map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": subject, "name": "厦门某某有限公司"},
		"category": category,
		"measures": []string{"high_consumption_ban"},
		"basis": map[string]any{"document_no": fmt.Sprintf("(2026)闽02执%s号", subject[10:16]),
			"decided_at": txn.FormatTime(start), "law": "最高人民法院关于公布失信被执行人名单信息的若干规定"},
		"start":  txn.FormatTime(start),
		"policy": policy,
	}
	if term != "" {
		p["term"] = term
	}
	return p
}
