// Package intakeclient signs transactions with an institution's key and
// submits them to intake (DESIGN 9.3, 9.4). The services that submit on
// their own (signer, exit-contract) share it.
package intakeclient

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
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Client signs transactions with an institution's key and submits them to
// intake (DESIGN 9.3, 9.4).
type Client struct {
	URL   string
	HTTP  *http.Client // default http.DefaultClient
	Chain string
	Suite suite.Suite
	Key   *suite.KeyFile
	// Clock stamps created_at, which intake checks within ±5 minutes.
	Clock func() time.Time
}

// Error is intake's refusal of a submission.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("intake answered %d %s: %s", e.Status, e.Code, e.Message)
}

// TxStatus is intake's answer about one transaction.
type TxStatus struct {
	TxID   string `json:"tx_id"`
	Status string `json:"status"` // pending|committed|rejected
	Height uint64 `json:"height,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) url(path string) string { return strings.TrimRight(c.URL, "/") + path }

// Sign builds and signs an envelope of type typ with a fresh nonce.
func (c *Client) Sign(typ string, payload any) (*txn.Envelope, string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s payload: %w", typ, err)
	}
	nb := make([]byte, 12)
	if _, err := rand.Read(nb); err != nil {
		return nil, "", fmt.Errorf("nonce: %w", err)
	}
	clock := c.Clock
	if clock == nil {
		clock = time.Now
	}
	env := &txn.Envelope{Chain: c.Chain, Type: typ, Submitter: c.Key.Institution, Nonce: hex.EncodeToString(nb),
		CreatedAt: txn.FormatTime(clock().UTC().Truncate(time.Millisecond)), Payload: raw}
	if err := txn.Sign(env, c.Suite, c.Key.PrivateKey(), c.Key.KeyID); err != nil {
		return nil, "", fmt.Errorf("sign %s: %w", typ, err)
	}
	id, err := env.ID(c.Suite)
	if err != nil {
		return nil, "", err
	}
	return env, id, nil
}

// Submit signs and posts one transaction and returns its tx id once intake
// has it (202, or 409 for the same transaction posted before): from then
// on it ends committed or rejected.
func (c *Client) Submit(ctx context.Context, typ string, payload any) (string, error) {
	env, id, err := c.Sign(typ, payload)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(txn.Submission{Tx: env})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/v1/transactions"), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("post %s: %w", typ, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusAccepted {
		return id, nil
	}
	ie := decodeError(resp.StatusCode, raw)
	if ie.Code == "duplicate" {
		return id, nil
	}
	return "", ie
}

func decodeError(status int, raw []byte) *Error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	if e.Error.Code == "" {
		e.Error.Message = strings.TrimSpace(string(raw))
	}
	return &Error{Status: status, Code: e.Error.Code, Message: e.Error.Message}
}

// Status asks intake about transaction id.
func (c *Client) Status(ctx context.Context, id string) (*TxStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v1/transactions/"+id), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("transaction status: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp.StatusCode, raw)
	}
	var st TxStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("transaction status: %w", err)
	}
	return &st, nil
}

// Wait polls transaction id until it is committed or rejected, or ctx ends.
func (c *Client) Wait(ctx context.Context, id string) (*TxStatus, error) {
	for {
		st, err := c.Status(ctx, id)
		if err == nil && st.Status != "pending" {
			return st, nil
		}
		var ie *Error
		if err != nil && !(errors.As(err, &ie) && ie.Status == http.StatusNotFound) && ctx.Err() == nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s still pending: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
