package consensus

import (
	"encoding/base64"
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"golang.org/x/mod/sumdb/note"
)

// checkVote verifies a recorder's vote before the leader counts it: a
// cosignature or checkpoint signature that does not verify would make every
// replica refuse the block, so one recorder signing garbage could otherwise
// stall the chain. A bad vote is evidence of misbehaviour and is counted.
func (n *Node) checkVote(v *Vote, m *membership.Member, b *block.Block) error {
	cs := v.Cosignature
	key, ok := m.Key(cs.KeyID)
	if !ok {
		return fmt.Errorf("unknown key %s", cs.KeyID)
	}
	sig, err := base64.RawURLEncoding.DecodeString(cs.Sig)
	if err != nil {
		return fmt.Errorf("cosignature encoding: %w", err)
	}
	if !n.suite.Verify(key.Public, block.CosignMessage(b.Header.Chain, b.Hash), sig) {
		return fmt.Errorf("cosignature does not verify")
	}
	vkey, err := checkpoint.VerifierKey(m.ID, key.Alg, key.Public)
	if err != nil {
		return err
	}
	ver, err := checkpoint.NewVerifier(vkey)
	if err != nil {
		return err
	}
	root, err := hexRoot(b.Header.LogRoot)
	if err != nil {
		return err
	}
	size, got, err := checkpoint.Verify(v.Checkpoint, b.Header.Chain, []note.Verifier{ver}, 1)
	if err != nil {
		return fmt.Errorf("checkpoint signature: %w", err)
	}
	if size != b.Header.LogSize || string(got) != string(root) {
		return fmt.Errorf("checkpoint is for another log head")
	}
	return nil
}
