package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func jsConnect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// fetchBodies fetches up to n messages from the durable and acks each one
// synchronously (double ack), so that the server has recorded it.
func fetchBodies(t *testing.T, ctx context.Context, c jetstream.Consumer, n int) []string {
	t.Helper()
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestJetStreamPublishAndDurableFetch(t *testing.T) {
	env := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := jsConnect(t, env.NATS.URL())
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "HARNESS_PUB", Subjects: []string{"harness.pub.>"}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), "HARNESS_PUB") })
	for i := 1; i <= 3; i++ {
		ack, err := js.Publish(ctx, "harness.pub.tx", []byte(fmt.Sprint("tx", i)), jetstream.WithMsgID(fmt.Sprint("id", i)))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Sequence != uint64(i) || ack.Duplicate {
			t.Fatalf("publish %d: ack %+v", i, ack)
		}
	}
	// Same message id: JetStream deduplicates, as intake relies on.
	ack, err := js.Publish(ctx, "harness.pub.tx", []byte("tx1 again"), jetstream.WithMsgID("id1"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate {
		t.Fatalf("republished id1 not flagged duplicate: %+v", ack)
	}
	c, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchBodies(t, ctx, c, 10); fmt.Sprint(got) != "[tx1 tx2 tx3]" {
		t.Fatalf("fetched %v", got)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != 3 || info.NumPending != 0 {
		t.Fatalf("after acking everything: ack floor %d, pending %d", info.AckFloor.Stream, info.NumPending)
	}
}

// Restart keeps the store and port: a durable consumer resumes after its last
// ack and the client reconnects by itself.
func TestNATSRestartKeepsStreamsAndConsumers(t *testing.T) {
	n, err := StartNATS(NATSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := n.URL()
	js := jsConnect(t, url)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LEDGER", Subjects: []string{"ledger"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := js.Publish(ctx, "ledger", []byte(fmt.Sprint("block", i))); err != nil {
			t.Fatal(err)
		}
	}
	c, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "replica", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchBodies(t, ctx, c, 2); fmt.Sprint(got) != "[block1 block2]" {
		t.Fatalf("before restart fetched %v", got)
	}

	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if n.URL() != url {
		t.Fatalf("restart moved the server from %s to %s", url, n.URL())
	}
	// The old handle must work again once the client has reconnected.
	var c2 jetstream.Consumer
	deadline := time.Now().Add(10 * time.Second)
	for {
		c2, err = js.Consumer(ctx, "LEDGER", "replica")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("durable consumer after restart: %v", err)
	}
	if got := fetchBodies(t, ctx, c2, 10); fmt.Sprint(got) != "[block3]" {
		t.Fatalf("after restart fetched %v, want only the unacked block3", got)
	}
}
