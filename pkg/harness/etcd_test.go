package harness

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestEtcdPutAndWatch(t *testing.T) {
	env := Shared(t)
	cli, err := env.Etcd.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	prefix := "/harness/" + randHex(4) + "/members/"
	first, err := cli.Put(ctx, prefix+"a", "v1")
	if err != nil {
		t.Fatal(err)
	}
	// Watch from after the first write: only later changes may arrive.
	wch := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(first.Header.Revision+1))
	if _, err := cli.Put(ctx, prefix+"b", "v2"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Delete(ctx, prefix+"a"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for len(seen) < 2 {
		select {
		case resp := <-wch:
			if err := resp.Err(); err != nil {
				t.Fatal(err)
			}
			for _, ev := range resp.Events {
				seen = append(seen, ev.Type.String()+" "+string(ev.Kv.Key)[len(prefix):]+"="+string(ev.Kv.Value))
			}
		case <-ctx.Done():
			t.Fatalf("watch saw %v before timeout", seen)
		}
	}
	if len(seen) != 2 || seen[0] != "PUT b=v2" || seen[1] != "DELETE a=" {
		t.Fatalf("watch events %q", seen)
	}
	got, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 1 || string(got.Kvs[0].Value) != "v2" {
		t.Fatalf("get after writes: %+v", got.Kvs)
	}
}
