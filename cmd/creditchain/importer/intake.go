package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/creditchain/creditchain/pkg/txn"
)

// intakeClient talks to intake's two endpoints and keeps every answer's
// status and error code, which the import's decisions depend on.
type intakeClient struct {
	base string
	http *http.Client
}

// newIntakeClient keeps up to conns connections open: with fewer idle
// connections allowed than requests in flight, every burst opens and
// closes connections.
func newIntakeClient(base string, conns int) *intakeClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns + 4
	return &intakeClient{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// answer is one intake answer.
type answer struct {
	HTTPStatus int
	RetryAfter time.Duration
	// Status is the transaction's status: from a 202, from a 409's "tx", or
	// from GET /v1/transactions/{id}.
	Status  string
	Height  uint64
	Reason  string
	Code    string // error.code of a refusal
	Message string
}

// post submits one transaction.
func (c *intakeClient) post(ctx context.Context, env *txn.Envelope, personal *txn.Personal) (*answer, error) {
	body, err := json.Marshal(txn.Submission{Tx: env, Personal: personal})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/transactions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// status reads a transaction's receipt; a 404 comes back as HTTPStatus 404.
func (c *intakeClient) status(ctx context.Context, id string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/transactions/"+id, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *intakeClient) do(req *http.Request) (*answer, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	a := &answer{HTTPStatus: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		a.RetryAfter = time.Duration(s) * time.Second
	}
	var body struct {
		Status string `json:"status"`
		Height uint64 `json:"height"`
		Reason string `json:"reason"`
		Error  *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Tx *struct {
			Status string `json:"status"`
			Height uint64 `json:"height"`
			Reason string `json:"reason"`
		} `json:"tx"`
	}
	if err := json.Unmarshal(raw, &body); err != nil && resp.StatusCode < 500 {
		return nil, fmt.Errorf("%s %s: %d with a body that is not JSON: %.200s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	a.Status, a.Height, a.Reason = body.Status, body.Height, body.Reason
	if body.Error != nil {
		a.Code, a.Message = body.Error.Code, body.Error.Message
	}
	if body.Tx != nil {
		a.Status, a.Height, a.Reason = body.Tx.Status, body.Tx.Height, body.Tx.Reason
	}
	return a, nil
}
