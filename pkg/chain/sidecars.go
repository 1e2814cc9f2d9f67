package chain

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go/jetstream"
)

// KVSidecars reads person sidecars from the SIDECARS key-value bucket
// (DESIGN 5). A sidecar that is missing or unreadable is nil: it never
// blocks the chain.
func KVSidecars(kv jetstream.KeyValue) SidecarSource {
	return func(ctx context.Context, commitment string) (*txn.Personal, error) {
		e, err := kv.Get(ctx, commitment)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var p txn.Personal
		if err := json.Unmarshal(e.Value(), &p); err != nil {
			return nil, nil
		}
		return &p, nil
	}
}
