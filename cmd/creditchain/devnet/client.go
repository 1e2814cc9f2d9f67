package devnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Client signs transactions as one institution and submits them to intake.
type Client struct {
	IntakeURL string
	Chain     string
	Suite     suite.Suite
	Key       *suite.KeyFile
	Clock     func() time.Time
	HTTP      *http.Client
}

// Status is intake's answer for a transaction.
type Status struct {
	TxID   string `json:"tx_id"`
	Status string `json:"status"`
	Height uint64 `json:"height,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Sign builds and signs an envelope.
func (c *Client) Sign(typ string, payload any) (*txn.Envelope, string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, "", err
	}
	clock := c.Clock
	if clock == nil {
		clock = time.Now
	}
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	env := &txn.Envelope{Chain: c.Chain, Type: typ, Submitter: c.Key.Institution, Nonce: hex.EncodeToString(nonce),
		CreatedAt: txn.FormatTime(clock().UTC()), Payload: raw}
	if err := txn.Sign(env, c.Suite, c.Key.PrivateKey(), c.Key.KeyID); err != nil {
		return nil, "", err
	}
	id, err := env.ID(c.Suite)
	return env, id, err
}

// Submit posts a signed envelope (and a person's sidecar, if any).
func (c *Client) Submit(ctx context.Context, env *txn.Envelope, personal *txn.Personal) (*Status, error) {
	body, err := json.Marshal(txn.Submission{Tx: env, Personal: personal})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.IntakeURL+"/v1/transactions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, http.StatusAccepted)
}

// Wait polls a transaction until it is committed or rejected.
func (c *Client) Wait(ctx context.Context, id string) (*Status, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.IntakeURL+"/v1/transactions/"+id, nil)
		if err != nil {
			return nil, err
		}
		st, err := c.do(req, http.StatusOK)
		if err == nil && st.Status != "pending" {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s still pending: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Client) do(req *http.Request, want int) (*Status, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var st Status
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &st, nil
}

// Client returns a client signing as institution i.
func (n *Network) Client(i int) *Client {
	s, _ := suite.ByName(n.Genesis.CryptoSuite)
	return &Client{IntakeURL: n.IntakeURL, Chain: n.Genesis.ChainID, Suite: s, Key: n.Institutions[i].Key, Clock: n.opts.Clock}
}

// ExampleRecord is a realistic record.create payload for an organization.
func ExampleRecord(uscc, name, category, documentNo string, start time.Time, term string) map[string]any {
	p := map[string]any{
		"subject":  map[string]any{"kind": "organization", "uscc": uscc, "name": name},
		"category": category,
		"measures": []string{"high_consumption_ban", "travel_ban"},
		"basis": map[string]any{"document_no": documentNo, "decided_at": txn.FormatTime(start),
			"law": "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条"},
		"start": txn.FormatTime(start), "policy": category,
	}
	if term != "" {
		p["term"] = term
	}
	return p
}

// SubmitAndWait submits env, prints "<tx id> <status>" to w and, when wait is
// positive, waits up to wait for the final status. With no wait it returns
// the pending status.
func (c *Client) SubmitAndWait(ctx context.Context, env *txn.Envelope, personal *txn.Personal, wait time.Duration, w io.Writer) (*Status, error) {
	st, err := c.Submit(ctx, env, personal)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s %s\n", st.TxID, st.Status)
	if wait <= 0 {
		return st, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return c.Wait(wctx, st.TxID)
}
