package merklelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/proof"
)

// ProveInclusion builds the RFC 6962 inclusion proof of leaf index in the
// tree of size leaves, reading only the nodes the proof needs.
func ProveInclusion(ctx context.Context, r NodeReader, h merkle.LogHasher, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("merklelog: inclusion proof: %w", err)
	}
	p, err := fetch(ctx, r, h, nodes)
	if err != nil {
		return nil, fmt.Errorf("merklelog: inclusion proof of %d in %d: %w", index, size, err)
	}
	return p, nil
}

// ProveConsistency builds the RFC 6962 consistency proof between the trees
// of size1 and size2 leaves (size1 <= size2).
func ProveConsistency(ctx context.Context, r NodeReader, h merkle.LogHasher, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("merklelog: consistency proof: %w", err)
	}
	p, err := fetch(ctx, r, h, nodes)
	if err != nil {
		return nil, fmt.Errorf("merklelog: consistency proof %d to %d: %w", size1, size2, err)
	}
	return p, nil
}

// fetch reads the stored nodes of a proof and folds the ones that make up
// its ephemeral node (a subtree not yet complete at that size).
func fetch(ctx context.Context, r NodeReader, h merkle.LogHasher, nodes proof.Nodes) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := r.ReadNodes(ctx, nodes.IDs)
	if err != nil {
		return nil, err
	}
	if len(hashes) != len(nodes.IDs) {
		return nil, fmt.Errorf("node reader returned %d hashes for %d ids", len(hashes), len(nodes.IDs))
	}
	for i, x := range hashes {
		if len(x) != h.Size() {
			id := nodes.IDs[i]
			return nil, fmt.Errorf("stored node (level %d, index %d) is %d bytes, want %d", id.Level, id.Index, len(x), h.Size())
		}
	}
	return nodes.Rehash(hashes, h.HashChildren)
}

// VerifyInclusion checks that leafHash is leaf index of the tree of size
// leaves with root.
func VerifyInclusion(h merkle.LogHasher, index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	if err := checkSizes(h, p); err != nil {
		return err
	}
	if err := proof.VerifyInclusion(h, index, size, leafHash, p, root); err != nil {
		return fmt.Errorf("merklelog: inclusion of %d in %d: %w", index, size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of size1 with root1 is a prefix of
// the tree of size2 with root2. Unlike the bare RFC 6962 check it also
// requires root1 to be the empty root when size1 is 0, since our checkpoints
// always state a root.
func VerifyConsistency(h merkle.LogHasher, size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	if err := checkSizes(h, p); err != nil {
		return err
	}
	if size1 == 0 && !bytes.Equal(root1, h.EmptyRoot()) {
		return errors.New("merklelog: consistency: size 0 with a root other than the empty root")
	}
	if err := proof.VerifyConsistency(h, size1, size2, p, root1, root2); err != nil {
		return fmt.Errorf("merklelog: consistency %d to %d: %w", size1, size2, err)
	}
	return nil
}

// checkSizes rejects proof elements of the wrong length up front, which the
// library would otherwise only report as a root mismatch.
func checkSizes(h merkle.LogHasher, p [][]byte) error {
	for i, x := range p {
		if len(x) != h.Size() {
			return fmt.Errorf("merklelog: proof element %d is %d bytes, want %d", i, len(x), h.Size())
		}
	}
	return nil
}
