package block

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/canonjson"

	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// Block is a block as served and replicated (DESIGN 9.6).
type Block struct {
	Header       Header            `json:"header"`
	Hash         string            `json:"hash"`
	Cosignatures []Cosignature     `json:"cosignatures"`
	Txs          []json.RawMessage `json:"txs"`
	Genesis      *Genesis          `json:"genesis,omitempty"`
	// Rejected lists the transactions the proposer refused in this block,
	// so that rejection receipts travel with the block.
	Rejected []Rejection `json:"rejected,omitempty"`
	// Checkpoint is the signed C2SP checkpoint of the header's log head.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// Rejection is a rejection receipt.
type Rejection struct {
	TxID   string `json:"tx_id"`
	Reason string `json:"reason"`
}

// MarshalJSON writes empty cosignatures and txs as [] (never null).
func (b Block) MarshalJSON() ([]byte, error) {
	type plain Block
	if b.Cosignatures == nil {
		b.Cosignatures = []Cosignature{}
	}
	if b.Txs == nil {
		b.Txs = []json.RawMessage{}
	}
	return json.Marshal(plain(b))
}

// DecodeBlock decodes a block strictly (see DecodeHeader).
func DecodeBlock(data []byte) (*Block, error) {
	var b Block
	if err := decodeStrict(data, &b); err != nil {
		return nil, fmt.Errorf("block: decoding block: %w", err)
	}
	if err := b.Header.checkNumbers(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Leaves returns the log leaves of txs: the JCS bytes of each full signed
// envelope. Canonicalizing here makes the roots independent of how a
// transport re-encoded the JSON.
func Leaves(txs []json.RawMessage) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		b, err := canonjson.Transform(tx)
		if err != nil {
			return nil, fmt.Errorf("block: tx %d is not canonicalizable JSON: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}

// TxRoot is the hex RFC 6962 root over txs (the empty root when none).
func TxRoot(s suite.Suite, txs []json.RawMessage) (string, error) {
	leaves, err := Leaves(txs)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(merklelog.Root(merklelog.NewHasher(s), leaves)), nil
}
