package merklelog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/transparency-dev/merkle/compact"
)

// NodeID names a perfect-subtree node: (level, index), leaves at level 0.
type NodeID = compact.NodeID

// Node is a tree node to persist.
type Node struct {
	ID   compact.NodeID
	Hash []byte
}

// NodeReader reads stored tree nodes. ReadNodes returns the hashes in the
// order of ids and fails if any node is missing: a proof built from a
// partial set would be wrong, not just short.
type NodeReader interface {
	ReadNodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error)
}

// ErrNodeNotFound is returned (wrapped) when a requested node is not stored.
var ErrNodeNotFound = errors.New("merklelog: node not stored")

// MemoryStore is a NodeReader over a map, for tests and for tools that hold a
// small log in memory. It is safe for concurrent use.
type MemoryStore struct {
	mu    sync.RWMutex
	nodes map[compact.NodeID][]byte
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{nodes: make(map[compact.NodeID][]byte)}
}

// Put stores nodes, replacing any with the same id.
func (m *MemoryStore) Put(nodes []Node) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes == nil {
		m.nodes = make(map[compact.NodeID][]byte)
	}
	for _, n := range nodes {
		m.nodes[n.ID] = n.Hash
	}
}

// Len is the number of stored nodes.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.nodes)
}

// ReadNodes implements NodeReader.
func (m *MemoryStore) ReadNodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m.nodes[id]
		if !ok {
			return nil, fmt.Errorf("node (level %d, index %d): %w", id.Level, id.Index, ErrNodeNotFound)
		}
		out[i] = h
	}
	return out, nil
}
