package merklelog

import (
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/compact"
)

// Log is the in-memory frontier of the log: the roots of its perfect
// subtrees, from the largest (leftmost) to the smallest. That is enough to
// append and to compute the root; everything else lives in the node store.
// A Log is not safe for concurrent use; Clone it to try out a block.
type Log struct {
	h   merkle.LogHasher
	f   *compact.RangeFactory
	rng *compact.Range
}

// NewLog returns an empty log.
func NewLog(h merkle.LogHasher) *Log {
	f := &compact.RangeFactory{Hash: h.HashChildren}
	return &Log{h: h, f: f, rng: f.NewEmptyRange(0)}
}

// RestoreLog rebuilds a log of size leaves from its Frontier.
func RestoreLog(h merkle.LogHasher, size uint64, frontier [][]byte) (*Log, error) {
	for i, n := range frontier {
		if len(n) != h.Size() {
			return nil, fmt.Errorf("merklelog: restore: frontier hash %d is %d bytes, want %d", i, len(n), h.Size())
		}
	}
	f := &compact.RangeFactory{Hash: h.HashChildren}
	rng, err := f.NewRange(0, size, cloneHashes(frontier))
	if err != nil {
		return nil, fmt.Errorf("merklelog: restore size %d: %w", size, err)
	}
	return &Log{h: h, f: f, rng: rng}, nil
}

// Hasher is the log's tree hasher.
func (l *Log) Hasher() merkle.LogHasher { return l.h }

// Size is the number of leaves.
func (l *Log) Size() uint64 { return l.rng.End() }

// Root is the RFC 6962 root hash; the empty root for an empty log.
func (l *Log) Root() ([]byte, error) {
	if l.rng.End() == 0 {
		return l.h.EmptyRoot(), nil
	}
	root, err := l.rng.GetRootHash(nil)
	if err != nil {
		return nil, fmt.Errorf("merklelog: root: %w", err)
	}
	return root, nil
}

// Frontier returns the perfect-subtree roots that RestoreLog needs.
func (l *Log) Frontier() [][]byte { return cloneHashes(l.rng.Hashes()) }

// Clone returns an independent copy.
func (l *Log) Clone() *Log {
	rng, err := l.f.NewRange(0, l.rng.End(), cloneHashes(l.rng.Hashes()))
	if err != nil {
		// The range came from a valid Log, so its shape cannot be wrong.
		panic(fmt.Sprintf("merklelog: clone: %v", err))
	}
	return &Log{h: l.h, f: l.f, rng: rng}
}

// Append adds leaves (leaf data, hashed here) and returns every node that
// became complete, including the leaf hashes at level 0. The caller must
// persist them before serving proofs for the new size.
func (l *Log) Append(leaves [][]byte) ([]Node, error) {
	// A batch of n leaves completes fewer than 2n nodes.
	nodes := make([]Node, 0, 2*len(leaves))
	visit := func(id compact.NodeID, hash []byte) {
		nodes = append(nodes, Node{ID: id, Hash: hash})
	}
	// Work on a copy so that a failure leaves l unchanged.
	next := l.Clone()
	for i, leaf := range leaves {
		if err := next.rng.Append(l.h.HashLeaf(leaf), visit); err != nil {
			return nil, fmt.Errorf("merklelog: append leaf %d: %w", l.Size()+uint64(i), err)
		}
	}
	l.rng = next.rng
	return nodes, nil
}

// Root is the RFC 6962 root over leaves (a block's tx_root); the empty root
// when there are none.
func Root(h merkle.LogHasher, leaves [][]byte) []byte {
	l := NewLog(h)
	for _, leaf := range leaves {
		// Appending to a range built here cannot fail.
		if err := l.rng.Append(h.HashLeaf(leaf), nil); err != nil {
			panic(fmt.Sprintf("merklelog: root: %v", err))
		}
	}
	root, err := l.Root()
	if err != nil {
		panic(fmt.Sprintf("merklelog: root: %v", err))
	}
	return root
}

func cloneHashes(hs [][]byte) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = slices.Clone(h)
	}
	return out
}
