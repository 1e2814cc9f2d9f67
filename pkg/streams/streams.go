// Package streams names the JetStream streams and buckets of a network and
// creates them. NATS only orders and transports: nothing here is trusted for
// content (DESIGN 2).
package streams

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of streams, subjects and buckets.
const (
	TxsStream      = "TXS"
	TxsSubject     = "cc.txs"
	LedgerStream   = "LEDGER"
	LedgerSubject  = "cc.ledger"
	ReceiptsBucket = "RECEIPTS"
	SidecarsBucket = "SIDECARS"
	// VoteSubjectPrefix + institution id is where a recorder answers proposals.
	VoteSubjectPrefix = "cc.vote."
	// CosignedSubject carries signed statements that a recorder cosigned a
	// block header (the votes a leader counted, or any a third party
	// holds), so that every recorder can catch one that cosigns two blocks
	// at one height and view (equivocation). Core NATS, not a stream: the
	// statements are verified on receipt of a conflict, never trusted.
	CosignedSubject = "cc.cosigned"
)

// Header names carried on LEDGER messages.
const (
	// HeaderTxsSeq is the last TXS sequence the block's proposer consumed. It
	// lets a new leader resume reading TXS where the chain stands. It is not
	// covered by the block hash: a wrong value can only delay or re-offer
	// transactions, and re-offered ones are dropped as already committed.
	HeaderTxsSeq = "Cc-Txs-Seq"
)

// DedupWindow covers the ±5 min created_at window twice over, so a replay
// inside the window is always caught by JetStream's Nats-Msg-Id dedup.
const DedupWindow = 10 * time.Minute

// Options tunes stream storage. Replicas is 1 in dev, 3 in production.
type Options struct {
	// Replicas 0 means ReplicasEnv, else 1.
	Replicas int
}

// ReplicasEnv sets the replica count of streams ensured with Replicas 0.
// Every service binary ensures the streams when it starts, with the zero
// Options: reading the setting here lets a deployment (Helm: 3) reach them
// all, and a service started without it can never scale a production
// stream back down to one replica.
const ReplicasEnv = "CREDITCHAIN_STREAM_REPLICAS"

// replicasFromEnv is ReplicasEnv's value, 1 when unset. JetStream allows
// at most 5 replicas.
func replicasFromEnv() (int, error) {
	v := os.Getenv(ReplicasEnv)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 5 {
		return 0, fmt.Errorf("%s=%q: want a number of replicas from 1 to 5", ReplicasEnv, v)
	}
	return n, nil
}

// Ensure creates or updates the network's streams and buckets.
func Ensure(ctx context.Context, js jetstream.JetStream, o Options) error {
	if o.Replicas == 0 {
		n, err := replicasFromEnv()
		if err != nil {
			return err
		}
		o.Replicas = n
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       TxsStream,
		Subjects:   []string{TxsSubject},
		Storage:    jetstream.FileStorage,
		Replicas:   o.Replicas,
		Duplicates: DedupWindow,
		MaxAge:     30 * 24 * time.Hour,
		MaxMsgSize: 512 << 10,
	}); err != nil {
		return fmt.Errorf("ensure stream %s: %w", TxsStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       LedgerStream,
		Subjects:   []string{LedgerSubject},
		Storage:    jetstream.FileStorage,
		Replicas:   o.Replicas,
		Duplicates: 2 * time.Minute,
		MaxMsgSize: 32 << 20,
	}); err != nil {
		return fmt.Errorf("ensure stream %s: %w", LedgerStream, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: ReceiptsBucket, Storage: jetstream.FileStorage, Replicas: o.Replicas, History: 1,
	}); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", ReceiptsBucket, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: SidecarsBucket, Storage: jetstream.FileStorage, Replicas: o.Replicas, History: 1,
	}); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", SidecarsBucket, err)
	}
	return nil
}
