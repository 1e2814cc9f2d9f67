package merklelog

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/transparency-dev/merkle"
)

// InclusionProof is the contract's inclusion proof (DESIGN 9.6). Hashes are
// lowercase hex. TxID names the transaction; it is the hash of the
// envelope's signing bytes, which this package cannot recompute from the
// leaf, so callers check it against the envelope themselves.
type InclusionProof struct {
	TxID      string   `json:"tx_id"`
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Root      string   `json:"root"`
	Proof     []string `json:"proof"`
}

// ConsistencyProof is the contract's consistency proof (DESIGN 9.6).
type ConsistencyProof struct {
	From     uint64   `json:"from"`
	To       uint64   `json:"to"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
	Proof    []string `json:"proof"`
}

// NewInclusionProof encodes an inclusion proof for the contract.
func NewInclusionProof(txID string, index, size uint64, root []byte, p [][]byte) InclusionProof {
	return InclusionProof{TxID: txID, LeafIndex: index, TreeSize: size, Root: hex.EncodeToString(root), Proof: encodeHashes(p)}
}

// NewConsistencyProof encodes a consistency proof for the contract.
func NewConsistencyProof(from, to uint64, fromRoot, toRoot []byte, p [][]byte) ConsistencyProof {
	return ConsistencyProof{From: from, To: to, FromRoot: hex.EncodeToString(fromRoot), ToRoot: hex.EncodeToString(toRoot), Proof: encodeHashes(p)}
}

// MarshalJSON writes an empty proof as [] (never null).
func (p InclusionProof) MarshalJSON() ([]byte, error) {
	type plain InclusionProof
	if p.Proof == nil {
		p.Proof = []string{}
	}
	return json.Marshal(plain(p))
}

// MarshalJSON writes an empty proof as [] (never null).
func (p ConsistencyProof) MarshalJSON() ([]byte, error) {
	type plain ConsistencyProof
	if p.Proof == nil {
		p.Proof = []string{}
	}
	return json.Marshal(plain(p))
}

// Verify checks that leafData (the leaf's bytes, hashed here) is at
// LeafIndex in the tree of TreeSize with Root.
func (p *InclusionProof) Verify(h merkle.LogHasher, leafData []byte) error {
	root, err := DecodeHash(h, p.Root)
	if err != nil {
		return fmt.Errorf("merklelog: inclusion proof root: %w", err)
	}
	path, err := decodeHashes(h, p.Proof)
	if err != nil {
		return fmt.Errorf("merklelog: inclusion proof: %w", err)
	}
	return VerifyInclusion(h, p.LeafIndex, p.TreeSize, h.HashLeaf(leafData), path, root)
}

// Verify checks that the tree of From with FromRoot is a prefix of the tree
// of To with ToRoot.
func (p *ConsistencyProof) Verify(h merkle.LogHasher) error {
	from, err := DecodeHash(h, p.FromRoot)
	if err != nil {
		return fmt.Errorf("merklelog: consistency proof from_root: %w", err)
	}
	to, err := DecodeHash(h, p.ToRoot)
	if err != nil {
		return fmt.Errorf("merklelog: consistency proof to_root: %w", err)
	}
	path, err := decodeHashes(h, p.Proof)
	if err != nil {
		return fmt.Errorf("merklelog: consistency proof: %w", err)
	}
	return VerifyConsistency(h, p.From, p.To, path, from, to)
}

// DecodeHash decodes a lowercase hex hash of the hasher's size. Uppercase is
// refused so that every hash has exactly one spelling.
func DecodeHash(h merkle.LogHasher, s string) ([]byte, error) {
	if len(s) != 2*h.Size() {
		return nil, fmt.Errorf("hash %q: %d hex chars, want %d", s, len(s), 2*h.Size())
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, fmt.Errorf("hash %q: not lowercase hex", s)
		}
	}
	return hex.DecodeString(s)
}

func decodeHashes(h merkle.LogHasher, ss []string) ([][]byte, error) {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := DecodeHash(h, s)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = b
	}
	return out, nil
}

func encodeHashes(p [][]byte) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = hex.EncodeToString(x)
	}
	return out
}
