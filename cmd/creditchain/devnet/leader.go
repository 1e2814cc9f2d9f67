package devnet

import (
	"context"
	"fmt"

	"github.com/creditchain/creditchain/pkg/registry"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Leader returns the institution currently holding leadership in etcd and
// its view (the election revision).
func (n *Network) Leader(ctx context.Context) (string, uint64, error) {
	resp, err := n.etcd.Get(ctx, registry.ElectionPrefix(n.Genesis.ChainID)+"/", append(clientv3.WithFirstCreate(), clientv3.WithPrefix())...)
	if err != nil {
		return "", 0, err
	}
	if len(resp.Kvs) == 0 {
		return "", 0, fmt.Errorf("no leader")
	}
	return string(resp.Kvs[0].Value), uint64(resp.Kvs[0].CreateRevision), nil
}
