package block

import (
	"bytes"
	"encoding/hex"

	"golang.org/x/mod/sumdb/note"

	"github.com/creditchain/creditchain/pkg/checkpoint"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
)

// VerifyNext checks block b against its predecessor's header prev, the
// membership epoch b claims and log, the log after prev. It returns the log
// after b (log itself is unchanged); the caller persists it. Errors are
// *VerifyError naming the first failed check.
func VerifyNext(s suite.Suite, prev *Header, b *Block, epoch *membership.Epoch, rule string, log *merklelog.Log) (*merklelog.Log, error) {
	next, _, err := VerifyNextNodes(s, prev, b, epoch, rule, log)
	return next, err
}

// VerifyNextNodes is VerifyNext that also returns the tree nodes b's
// transactions add to the log, for the node store.
func VerifyNextNodes(s suite.Suite, prev *Header, b *Block, epoch *membership.Epoch, rule string, log *merklelog.Log) (*merklelog.Log, []merklelog.Node, error) {
	h := &b.Header
	// Errors name the height the block should have, which is where the
	// chain broke even when the block lies about its own height.
	at := prev.Height + 1
	if h.Chain != prev.Chain {
		return nil, nil, verr(at, "chain", "chain %q, want %q", h.Chain, prev.Chain)
	}
	if h.Height != prev.Height+1 {
		return nil, nil, verr(at, "height", "height %d after %d", h.Height, prev.Height)
	}
	if b.Genesis != nil {
		return nil, nil, verr(at, "height", "only height 0 carries a genesis")
	}
	prevHash, err := prev.Hash(s)
	if err != nil {
		return nil, nil, verr(at, "prev", "%v", err)
	}
	if h.Prev != prevHash {
		return nil, nil, verr(at, "prev", "prev %q, want %q", h.Prev, prevHash)
	}
	if err := checkTime(prev, h); err != nil {
		return nil, nil, err
	}
	if err := checkEpoch(prev, h, epoch); err != nil {
		return nil, nil, err
	}
	if h.TxCount != len(b.Txs) {
		return nil, nil, verr(at, "tx_count", "tx_count %d, block has %d txs", h.TxCount, len(b.Txs))
	}
	leaves, err := Leaves(b.Txs)
	if err != nil {
		return nil, nil, verr(at, "tx_root", "%v", err)
	}
	hasher := merklelog.NewHasher(s)
	if got := hex.EncodeToString(merklelog.Root(hasher, leaves)); h.TxRoot != got {
		return nil, nil, verr(at, "tx_root", "tx_root %q, txs give %q", h.TxRoot, got)
	}
	if log.Size() != prev.LogSize {
		return nil, nil, verr(at, "log_size", "log before the block has %d leaves, previous header says %d", log.Size(), prev.LogSize)
	}
	next := log.Clone()
	nodes, err := next.Append(leaves)
	if err != nil {
		return nil, nil, verr(at, "log_size", "%v", err)
	}
	if h.LogSize != next.Size() {
		return nil, nil, verr(at, "log_size", "log_size %d, want %d", h.LogSize, next.Size())
	}
	root, err := next.Root()
	if err != nil {
		return nil, nil, verr(at, "log_root", "%v", err)
	}
	if got := hex.EncodeToString(root); h.LogRoot != got {
		return nil, nil, verr(at, "log_root", "log_root %q, want %q", h.LogRoot, got)
	}
	hash, err := h.Hash(s)
	if err != nil {
		return nil, nil, verr(at, "hash", "%v", err)
	}
	if b.Hash != hash {
		return nil, nil, verr(at, "hash", "hash %q, header hashes to %q", b.Hash, hash)
	}
	if err := VerifyCosignatures(s, h.Chain, hash, b.Cosignatures, epoch, rule); err != nil {
		return nil, nil, atHeight(err, at, "cosignatures")
	}
	if b.Checkpoint != "" {
		if err := verifyCheckpoint(h, root, b.Checkpoint, epoch, rule); err != nil {
			return nil, nil, err
		}
	}
	return next, nodes, nil
}

func checkTime(prev, h *Header) error {
	pt, err := parseTime(prev.Time)
	if err != nil {
		return verr(h.Height, "time", "previous header: %v", err)
	}
	t, err := parseTime(h.Time)
	if err != nil {
		return verr(h.Height, "time", "%v", err)
	}
	if !t.After(pt) {
		return verr(h.Height, "time", "time %s is not after the previous block's %s", h.Time, prev.Time)
	}
	return nil
}

func checkEpoch(prev, h *Header, epoch *membership.Epoch) error {
	if h.Epoch < prev.Epoch {
		return verr(h.Height, "epoch", "epoch %d after %d", h.Epoch, prev.Epoch)
	}
	if epoch == nil {
		return verr(h.Height, "epoch", "no membership for epoch %d", h.Epoch)
	}
	if epoch.Epoch != h.Epoch {
		return verr(h.Height, "epoch", "block is in epoch %d, verified against epoch %d", h.Epoch, epoch.Epoch)
	}
	if epoch.FromHeight > h.Height {
		return verr(h.Height, "epoch", "epoch %d starts at height %d", epoch.Epoch, epoch.FromHeight)
	}
	return nil
}

// verifyCheckpoint checks the block's checkpoint is the header's log head,
// signed by a quorum of the epoch's recorders.
func verifyCheckpoint(h *Header, root []byte, text string, epoch *membership.Epoch, rule string) error {
	recorders := epoch.Recorders()
	var vs []note.Verifier
	for _, m := range recorders {
		for _, k := range m.Keys {
			vk, err := checkpoint.VerifierKey(m.ID, k.Alg, k.Public)
			if err != nil {
				return verr(h.Height, "checkpoint", "recorder %s: %v", m.ID, err)
			}
			v, err := checkpoint.NewVerifier(vk)
			if err != nil {
				return verr(h.Height, "checkpoint", "recorder %s: %v", m.ID, err)
			}
			vs = append(vs, v)
		}
	}
	need, err := membership.QuorumSize(rule, len(recorders))
	if err != nil {
		return verr(h.Height, "checkpoint", "%v", err)
	}
	size, got, err := checkpoint.Verify(text, h.Chain, vs, need)
	if err != nil {
		return verr(h.Height, "checkpoint", "%v", err)
	}
	if size != h.LogSize || !bytes.Equal(got, root) {
		return verr(h.Height, "checkpoint", "checkpoint is size %d root %x, header is %d %x", size, got, h.LogSize, root)
	}
	return nil
}

// VerifyGenesis checks a genesis block: its genesis is valid, its header is
// the one the genesis defines, it has no transactions or cosignatures, and
// its hash is genesisHash (from the trust bundle). Errors are *VerifyError.
func VerifyGenesis(s suite.Suite, b *Block, genesisHash string) error {
	if b.Genesis == nil {
		return verr(0, "genesis", "block has no genesis")
	}
	if err := b.Genesis.Validate(); err != nil {
		return verr(0, "genesis", "%v", err)
	}
	if b.Genesis.CryptoSuite != s.Name() {
		return verr(0, "genesis", "genesis suite %q, verifying with %q", b.Genesis.CryptoSuite, s.Name())
	}
	want, err := b.Genesis.Header(s)
	if err != nil {
		return verr(0, "genesis", "%v", err)
	}
	if b.Header != want {
		return verr(b.Header.Height, "genesis", "header does not match the genesis parameters")
	}
	if len(b.Txs) != 0 || len(b.Cosignatures) != 0 {
		return verr(0, "genesis", "genesis block has %d txs and %d cosignatures, want none", len(b.Txs), len(b.Cosignatures))
	}
	hash, err := want.Hash(s)
	if err != nil {
		return verr(0, "hash", "%v", err)
	}
	if b.Hash != hash {
		return verr(0, "hash", "hash %q, header hashes to %q", b.Hash, hash)
	}
	if hash != genesisHash {
		return verr(0, "hash", "genesis hash %q, trust bundle says %q", hash, genesisHash)
	}
	return nil
}
