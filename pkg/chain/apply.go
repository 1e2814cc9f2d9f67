// Package chain verifies blocks and applies them to a replica, and builds the
// blocks a leader proposes. Both sides run the same executor over the same
// state, so a block that a leader builds is exactly what every replica
// accepts (DESIGN 2).
package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Refusal kinds: why a block from the stream was not applied.
const (
	RefusedFork    = "fork"    // a different valid-looking block at a height we have
	RefusedGap     = "gap"     // the block does not follow our head
	RefusedInvalid = "invalid" // fails verification: cosignatures, roots, links, transactions
)

// RefusedError is a block that must never be applied.
type RefusedError struct {
	Kind   string
	Height uint64
	Err    error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("block %d refused (%s): %v", e.Height, e.Kind, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// SidecarSource returns the person sidecar for a commitment, or nil when it is
// not available (it was purged, or never sent).
type SidecarSource func(ctx context.Context, commitment string) (*txn.Personal, error)

// Applier verifies blocks and applies them to one replica.
type Applier struct {
	Store    *pgstore.Store
	Exec     *ledger.Executor
	Sidecars SidecarSource
	// Institution is the replica's own institution, when it has one. A
	// block it cosigned was validated by its own recorder before signing,
	// so the transaction signatures are not checked a second time (DESIGN
	// 3); the rules still run, since they produce the rows to write.
	Institution string
}

// NewApplier builds an applier over a store whose genesis is loaded.
func NewApplier(s *pgstore.Store, sidecars SidecarSource) *Applier {
	return &Applier{Store: s, Exec: &ledger.Executor{Suite: s.Suite}, Sidecars: sidecars}
}

// ErrAlreadyApplied means the replica already holds this exact block.
var ErrAlreadyApplied = errors.New("block already applied")

// Apply verifies b against the replica's head and applies it. It returns
// ErrAlreadyApplied for a block the replica holds already (redelivery), and a
// *RefusedError for a block that must not be applied.
func (a *Applier) Apply(ctx context.Context, b *block.Block, streamSeq uint64) error {
	head, err := a.Store.Head(ctx)
	if err != nil {
		return err
	}
	if b.Header.Height <= head.Height {
		have, err := a.Store.BlockHash(ctx, b.Header.Height)
		if err != nil {
			return err
		}
		if have == b.Hash {
			return ErrAlreadyApplied
		}
		return &RefusedError{Kind: RefusedFork, Height: b.Header.Height,
			Err: fmt.Errorf("replica holds %s at this height, stream offers %s", have, b.Hash)}
	}
	if b.Header.Height != head.Height+1 {
		return &RefusedError{Kind: RefusedGap, Height: b.Header.Height,
			Err: fmt.Errorf("replica head is %d", head.Height)}
	}
	u, err := a.Prepare(ctx, head, b)
	if err != nil {
		// Verification read the state while another writer of this database
		// may have been applying this very block (its transactions then look
		// already committed): a block that is now held is no refusal.
		if a.holds(ctx, b) {
			return ErrAlreadyApplied
		}
		return err
	}
	u.StreamSeq = streamSeq
	return a.write(ctx, u)
}

// write applies u. Another writer of the same database (an institution's
// replicator and its recorder's consensus state may share one) can apply
// the same block first: that is ErrAlreadyApplied, not a failure.
func (a *Applier) write(ctx context.Context, u *pgstore.BlockUpdate) error {
	err := a.Store.ApplyBlock(ctx, u, nil)
	if errors.Is(err, pgstore.ErrHeadMoved) && a.holds(ctx, u.Block) {
		return ErrAlreadyApplied
	}
	return err
}

// holds reports whether the database now holds exactly b at its height.
func (a *Applier) holds(ctx context.Context, b *block.Block) bool {
	head, err := a.Store.Head(ctx)
	if err != nil || head.Height < b.Header.Height {
		return false
	}
	have, err := a.Store.BlockHash(ctx, b.Header.Height)
	return err == nil && have == b.Hash
}

// Prepare verifies b as the successor of head (links, roots, epoch,
// cosignature quorum, and every transaction re-executed against the state)
// and returns the update to write.
func (a *Applier) Prepare(ctx context.Context, head *pgstore.Head, b *block.Block) (*pgstore.BlockUpdate, error) {
	refuse := func(err error) error {
		return &RefusedError{Kind: RefusedInvalid, Height: b.Header.Height, Err: err}
	}
	epoch, err := a.Store.Membership(ctx)
	if err != nil {
		return nil, err
	}
	if b.Header.Epoch != epoch.Epoch {
		return nil, refuse(fmt.Errorf("block claims epoch %d, membership in force is epoch %d", b.Header.Epoch, epoch.Epoch))
	}
	log, nodes, err := block.VerifyNextNodes(a.Store.Suite, &head.Header, b, epoch, a.Store.Genesis.Quorum, head.Log)
	if err != nil {
		return nil, refuse(err)
	}
	blk := ledger.Block{Height: b.Header.Height}
	if blk.Time, err = txn.ParseTime(b.Header.Time); err != nil {
		return nil, refuse(err)
	}
	batch := ledger.NewBatch(a.Store)
	txs := make([]*ledger.Tx, len(b.Txs))
	ids := make([]string, len(b.Txs))
	for i, raw := range b.Txs {
		tx, rej := a.Exec.Decode(raw)
		if rej != nil {
			return nil, refuse(fmt.Errorf("transaction %d: %w", i, rej))
		}
		txs[i], ids[i] = tx, tx.ID
	}
	if err := batch.Prefetch(ctx, ids); err != nil {
		return nil, err
	}
	if a.cosigned(b) {
		for _, tx := range txs {
			tx.SigOK = true
		}
	} else if err := a.Exec.VerifySignatures(ctx, batch, txs); err != nil {
		return nil, err
	}
	for i, tx := range txs {
		if err := a.Exec.Execute(ctx, batch, blk, tx); err != nil {
			var r *ledger.Rejection
			if errors.As(err, &r) {
				return nil, refuse(fmt.Errorf("transaction %d (%s) is invalid: %w", i, tx.ID, r))
			}
			return nil, err
		}
	}
	u := &pgstore.BlockUpdate{Block: b, Txs: txs, Batch: batch, Nodes: nodes, Log: log}
	if err := a.collectSidecars(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// cosigned reports whether the replica's own institution cosigned b; the
// caller has verified every cosignature of b already.
func (a *Applier) cosigned(b *block.Block) bool {
	if a.Institution == "" {
		return false
	}
	for _, c := range b.Cosignatures {
		if c.Institution == a.Institution {
			return true
		}
	}
	return false
}

// collectSidecars fetches the plaintext of persons put on the list by this
// block and checks each against its commitment; a missing or mismatching
// sidecar is logged by the caller's metrics but never blocks the chain.
func (a *Applier) collectSidecars(ctx context.Context, u *pgstore.BlockUpdate) error {
	if a.Sidecars == nil {
		return nil
	}
	for _, tx := range u.Txs {
		rc, ok := tx.Payload.(*txn.RecordCreate)
		if !ok || rc.Subject.Kind != txn.SubjectPerson {
			continue
		}
		p, err := a.Sidecars(ctx, rc.Subject.Commitment)
		if err != nil {
			return fmt.Errorf("fetch sidecar %s: %w", rc.Subject.Commitment, err)
		}
		if p == nil {
			continue
		}
		if c, err := txn.Commitment(a.Store.Suite, p); err != nil || c != rc.Subject.Commitment {
			continue
		}
		if u.Sidecars == nil {
			u.Sidecars = map[string]*txn.Personal{}
		}
		u.Sidecars[rc.Subject.Commitment] = p
	}
	return nil
}

func leaves(txs []json.RawMessage) [][]byte {
	out := make([][]byte, len(txs))
	for i, t := range txs {
		out[i] = t
	}
	return out
}

// VerifyLog is a helper for callers that only need the next log.
func VerifyLog(log *merklelog.Log, txs []json.RawMessage) (*merklelog.Log, []merklelog.Node, error) {
	next := log.Clone()
	nodes, err := next.Append(leaves(txs))
	return next, nodes, err
}

// ApplyBuilt applies a block whose content this node built and executed
// itself when it voted (same hash): only the cosignature quorum and the
// parent link are left to check. The update's block is replaced by b, which
// carries the cosignatures and checkpoint.
func (a *Applier) ApplyBuilt(ctx context.Context, b *block.Block, u *pgstore.BlockUpdate, streamSeq uint64) error {
	head, err := a.Store.Head(ctx)
	if err != nil {
		return err
	}
	if head.Height+1 != b.Header.Height || head.Hash != b.Header.Prev || u.Block.Hash != b.Hash {
		return a.Apply(ctx, b, streamSeq)
	}
	epoch, err := a.Store.Membership(ctx)
	if err != nil {
		return err
	}
	if err := block.VerifyCosignatures(a.Store.Suite, b.Header.Chain, b.Hash, b.Cosignatures, epoch, a.Store.Genesis.Quorum); err != nil {
		return &RefusedError{Kind: RefusedInvalid, Height: b.Header.Height, Err: err}
	}
	cu := *u
	cu.Block = b
	cu.StreamSeq = streamSeq
	return a.write(ctx, &cu)
}
