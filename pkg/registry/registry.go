// Package registry is the membership registry in etcd (DESIGN 6): the current
// epoch with its members, watched so that every service sees a change within a
// second without restarting. The ledger is the audit trail; etcd is only where
// the committed membership is published, with a compare-and-swap on the epoch.
package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/creditchain/creditchain/pkg/membership"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Prefix is the root of a chain's keys in etcd.
func Prefix(chain string) string { return "/creditchain/" + chain + "/" }

func epochKey(chain string) string   { return Prefix(chain) + "membership/epoch" }
func currentKey(chain string) string { return Prefix(chain) + "membership/current" }

// ElectionPrefix is where recorders campaign for leadership.
func ElectionPrefix(chain string) string { return Prefix(chain) + "leader" }

// Publish writes epoch e as the current membership if etcd holds an older
// epoch (or none). It returns false when etcd already holds e or a newer one,
// which makes concurrent publishers from several recorders harmless.
func Publish(ctx context.Context, cli *clientv3.Client, chain string, e *membership.Epoch) (bool, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return false, fmt.Errorf("encode epoch: %w", err)
	}
	for {
		resp, err := cli.Get(ctx, epochKey(chain))
		if err != nil {
			return false, fmt.Errorf("read epoch: %w", err)
		}
		var cmp clientv3.Cmp
		if len(resp.Kvs) == 0 {
			cmp = clientv3.Compare(clientv3.CreateRevision(epochKey(chain)), "=", 0)
		} else {
			cur, err := strconv.ParseUint(string(resp.Kvs[0].Value), 10, 64)
			if err != nil {
				return false, fmt.Errorf("corrupt epoch in etcd: %w", err)
			}
			if cur >= e.Epoch {
				return false, nil
			}
			cmp = clientv3.Compare(clientv3.ModRevision(epochKey(chain)), "=", resp.Kvs[0].ModRevision)
		}
		txn, err := cli.Txn(ctx).If(cmp).Then(
			clientv3.OpPut(epochKey(chain), strconv.FormatUint(e.Epoch, 10)),
			clientv3.OpPut(currentKey(chain), string(data)),
		).Commit()
		if err != nil {
			return false, fmt.Errorf("publish epoch %d: %w", e.Epoch, err)
		}
		if txn.Succeeded {
			return true, nil
		}
	}
}

// Registry caches the current membership and follows etcd.
type Registry struct {
	mu    sync.RWMutex
	epoch *membership.Epoch
}

// Current returns the membership in force, or nil before the first load.
func (r *Registry) Current() *membership.Epoch {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.epoch
}

func (r *Registry) set(data []byte) error {
	var e membership.Epoch
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("decode membership: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.epoch == nil || e.Epoch >= r.epoch.Epoch {
		r.epoch = &e
	}
	return nil
}

// Watch loads the current membership and keeps it current until ctx ends. It
// returns once the first load is done; changes are applied in the background.
func Watch(ctx context.Context, cli *clientv3.Client, chain string) (*Registry, error) {
	r := &Registry{}
	resp, err := cli.Get(ctx, currentKey(chain))
	if err != nil {
		return nil, fmt.Errorf("load membership: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("no membership for chain %q in etcd", chain)
	}
	if err := r.set(resp.Kvs[0].Value); err != nil {
		return nil, err
	}
	wc := cli.Watch(ctx, currentKey(chain), clientv3.WithRev(resp.Header.Revision+1))
	go func() {
		for wr := range wc {
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut {
					_ = r.set(ev.Kv.Value)
				}
			}
		}
	}()
	return r, nil
}
