package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/creditchain/creditchain/pkg/membership"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Load reads the current membership once, for callers that need it at one
// moment rather than followed (the CLI, a node deciding whether to
// campaign). It returns nil and no error when etcd holds none yet.
func Load(ctx context.Context, cli *clientv3.Client, chain string) (*membership.Epoch, error) {
	resp, err := cli.Get(ctx, currentKey(chain))
	if err != nil {
		return nil, fmt.Errorf("load membership: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	var e membership.Epoch
	if err := json.Unmarshal(resp.Kvs[0].Value, &e); err != nil {
		return nil, fmt.Errorf("decode membership: %w", err)
	}
	return &e, nil
}
