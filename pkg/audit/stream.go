package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/chain"
	"github.com/creditchain/creditchain/pkg/pgstore"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/nats-io/nats.go/jetstream"
)

// reapply applies the LEDGER blocks after the replica's head, up to the
// stream's last message when it starts, through chain.Applier: every block
// is verified as a replicator would. Blocks are read by sequence: the
// leader appends so that the sequence equals the height, and hint (the
// head block's stored stream_seq) says where the head was read from; if
// either is wrong the stream is scanned from its first message, skipping
// blocks the replica holds. Neither is trusted: only the blocks are.
// hint is 0 when unknown.
func reapply(ctx context.Context, store *pgstore.Store, js jetstream.JetStream, hint, every uint64, logf func(string, ...any)) (uint64, error) {
	stream, err := js.Stream(ctx, streams.LedgerStream)
	if err != nil {
		return 0, fmt.Errorf("repair: open stream %s: %w", streams.LedgerStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("repair: stream %s: %w", streams.LedgerStream, err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	head, err := store.Head(ctx)
	if err != nil {
		return 0, err
	}
	start := head.Height + 1
	if hint > 0 && hint >= first && hint <= last {
		// The hint counts only if the head block really is there.
		if msg, err := stream.GetMsg(ctx, hint); err == nil {
			if b, err := block.DecodeBlock(msg.Data); err == nil && b.Hash == head.Hash {
				start = hint + 1
			}
		}
	}
	start = max(start, first)
	logf("re-applying blocks after height %d from stream %s (messages %d..%d)", head.Height, streams.LedgerStream, start, last)
	applier := chain.NewApplier(store, sidecarSource(ctx, js))
	var applied uint64
	scanned := start <= first
	for seq := start; seq <= last; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted from the stream; the gap, if any, shows below
		}
		if err != nil {
			return applied, fmt.Errorf("repair: read stream message %d: %w", seq, err)
		}
		b, err := block.DecodeBlock(msg.Data)
		if err != nil {
			return applied, fmt.Errorf("repair: stream message %d: %w", seq, err)
		}
		if b.Header.Height <= head.Height {
			continue
		}
		if b.Header.Height > head.Height+1 {
			if !scanned {
				// The guess of where our next block sits was wrong.
				scanned, seq = true, first-1
				continue
			}
			return applied, fmt.Errorf("repair: the stream has no block %d (message %d is block %d); restore from another replica",
				head.Height+1, seq, b.Header.Height)
		}
		if err := applier.Apply(ctx, b, seq); err != nil {
			return applied, fmt.Errorf("repair: stream message %d: %w", seq, err)
		}
		applied++
		head.Height = b.Header.Height
		if applied%every == 0 {
			logf("re-applied block %d (message %d of %d)", head.Height, seq, last)
		}
	}
	logf("re-applied %d blocks; head is %d", applied, head.Height)
	return applied, nil
}

// sidecarSource reads person sidecars from the network's bucket, as the
// replicator does, so that re-applied person records get their plaintext.
// Without the bucket, blocks still apply: sidecars never block the chain.
func sidecarSource(ctx context.Context, js jetstream.JetStream) chain.SidecarSource {
	kv, err := js.KeyValue(ctx, streams.SidecarsBucket)
	if err != nil {
		return nil
	}
	return chain.KVSidecars(kv)
}
