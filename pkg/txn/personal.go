package txn

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/canonjson"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Personal is a person's sidecar: the plaintext behind a subject's
// commitment. It travels beside the transaction, never inside it, so that
// it can be purged from replicas while the chain stays verifiable.
type Personal struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Salt     string `json:"salt"`
}

// Commitment is hex(hash(JCS(p))) under suite s (DESIGN 9.6).
func Commitment(s suite.Suite, p *Personal) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encoding personal sidecar: %w", err)
	}
	c, err := canonjson.Transform(b)
	if err != nil {
		return "", fmt.Errorf("canonicalizing personal sidecar: %w", err)
	}
	return hex.EncodeToString(s.Hash(c)), nil
}

// DecodePersonal strictly decodes a sidecar on its own (as a file the CLI
// reads); within a request body DecodeSubmission decodes it. Its values are
// checked by Validate.
func DecodePersonal(data []byte) (*Personal, error) {
	c, aerr := canonicalize(data, "personal")
	if aerr != nil {
		return nil, aerr
	}
	var p Personal
	if aerr := decodeStrict(c, &p, "personal"); aerr != nil {
		return nil, aerr
	}
	return &p, nil
}
