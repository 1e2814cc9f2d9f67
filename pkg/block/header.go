package block

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/suite"
)

// Header is what a block hash commits to (DESIGN 4): the previous header,
// the block's own transactions (tx_root) and the whole log (log_root).
type Header struct {
	Chain    string `json:"chain"`
	Height   uint64 `json:"height"`
	Prev     string `json:"prev"`
	Time     string `json:"time"`
	View     uint64 `json:"view"`
	Proposer string `json:"proposer"`
	Epoch    uint64 `json:"epoch"`
	TxCount  int    `json:"tx_count"`
	TxRoot   string `json:"tx_root"`
	LogSize  uint64 `json:"log_size"`
	LogRoot  string `json:"log_root"`
	// Params is hex hash(JCS(genesis)), only in the genesis header, so that
	// the genesis hash the trust bundle anchors commits to the parameters.
	Params string `json:"params,omitempty"`
}

// Hash is hex(hash(JCS(header))), the block hash.
func (h *Header) Hash(s suite.Suite) (string, error) {
	if err := h.checkNumbers(); err != nil {
		return "", err
	}
	out, err := hashOf(s, h)
	if err != nil {
		return "", fmt.Errorf("block: hashing header %d: %w", h.Height, err)
	}
	return out, nil
}

// checkNumbers keeps every number exact under JCS.
func (h *Header) checkNumbers() error {
	for _, f := range []struct {
		name string
		v    uint64
	}{{"height", h.Height}, {"view", h.View}, {"epoch", h.Epoch}, {"log_size", h.LogSize}} {
		if f.v > maxSafe {
			return fmt.Errorf("block: header %s %d exceeds 2^53-1", f.name, f.v)
		}
	}
	if h.TxCount < 0 || h.TxCount > maxSafe {
		return fmt.Errorf("block: header tx_count %d out of range", h.TxCount)
	}
	return nil
}

// DecodeHeader decodes a header strictly: no unknown members, no trailing
// data, numbers within the exact range of JCS.
func DecodeHeader(data []byte) (*Header, error) {
	var h Header
	if err := decodeStrict(data, &h); err != nil {
		return nil, fmt.Errorf("block: decoding header: %w", err)
	}
	if err := h.checkNumbers(); err != nil {
		return nil, err
	}
	return &h, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// members: a member the hash does not cover must not ride along unnoticed.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
