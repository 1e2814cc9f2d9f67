package exitcontract

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// submitter signs transactions with the recorder's key and posts them to
// intake (DESIGN 9.3, 9.4).
type submitter struct {
	intakeURL string
	client    *http.Client
	chain     string
	suite     suite.Suite
	key       *suite.KeyFile
	clock     func() time.Time
}

// IntakeError is intake's refusal of a submission.
type IntakeError struct {
	Status  int
	Code    string
	Message string
}

func (e *IntakeError) Error() string {
	return fmt.Sprintf("intake answered %d %s: %s", e.Status, e.Code, e.Message)
}

// sign builds and signs an envelope of type typ. created_at comes from the
// clock, which must agree with intake's within its ±5 min window; it has
// nothing to do with eligibility, which only block time decides.
func (s *submitter) sign(typ string, payload any) (*txn.Envelope, string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("encode %s payload: %w", typ, err)
	}
	nb := make([]byte, 12)
	if _, err := rand.Read(nb); err != nil {
		return nil, "", fmt.Errorf("nonce: %w", err)
	}
	env := &txn.Envelope{Chain: s.chain, Type: typ, Submitter: s.key.Institution, Nonce: hex.EncodeToString(nb),
		CreatedAt: txn.FormatTime(s.clock().UTC().Truncate(time.Millisecond)), Payload: raw}
	if err := txn.Sign(env, s.suite, s.key.PrivateKey(), s.key.KeyID); err != nil {
		return nil, "", fmt.Errorf("sign %s: %w", typ, err)
	}
	id, err := env.ID(s.suite)
	if err != nil {
		return nil, "", err
	}
	return env, id, nil
}

// submit signs and posts one transaction and returns its tx id once intake
// accepted it (202; from then on it ends committed or rejected).
func (s *submitter) submit(ctx context.Context, typ string, payload any) (string, error) {
	env, id, err := s.sign(typ, payload)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(txn.Submission{Tx: env})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.intakeURL, "/")+"/v1/transactions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("post %s: %w", typ, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusAccepted {
		return id, nil
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return "", &IntakeError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}
