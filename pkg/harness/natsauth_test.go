package harness

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestSetUsersRestrictsAndRevokes turns authentication on in a running
// server: JetStream keeps working for an unrestricted user, a restricted
// user may do only what it is allowed, and removing a user closes its
// connection and refuses it from then on.
func TestSetUsersRestrictsAndRevokes(t *testing.T) {
	ns, err := StartNATS(NATSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := &server.User{Username: "admin", Password: "a"}
	reader := &server.User{Username: "reader", Password: "r", Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"$JS.API.STREAM.MSG.GET.AUTH"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.reader.>"}},
	}}
	if err := ns.SetUsers([]*server.User{admin, reader}); err != nil {
		t.Fatal(err)
	}
	url := "nats://127.0.0.1:" + strconv.Itoa(ns.Port())
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to a server with users")
	}
	js := jsConnect(t, "nats://admin:a@127.0.0.1:"+strconv.Itoa(ns.Port()))
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "AUTH", Subjects: []string{"auth.>"}}); err != nil {
		t.Fatalf("JetStream after enabling users: %v", err)
	}
	if _, err := js.Publish(ctx, "auth.one", []byte("one")); err != nil {
		t.Fatal(err)
	}

	closed := make(chan struct{})
	rc, err := nats.Connect("nats://reader:r@127.0.0.1:"+strconv.Itoa(ns.Port()), nats.CustomInboxPrefix("_INBOX.reader"),
		nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatalf("reader connect: %v", err)
	}
	defer rc.Close()
	rjs, _ := jetstream.New(rc)
	// A denied request is never answered: wait briefly.
	sctx, scancel := context.WithTimeout(ctx, time.Second)
	s, err := rjs.Stream(sctx, "AUTH")
	scancel()
	if err == nil {
		t.Fatalf("reader read stream info %v without permission", s)
	}
	raw, err := rc.Request("$JS.API.STREAM.MSG.GET.AUTH", []byte(`{"seq":1}`), 5*time.Second)
	if err != nil {
		t.Fatalf("reader get message: %v", err)
	}
	if len(raw.Data) == 0 {
		t.Fatal("empty answer to an allowed request")
	}

	if err := ns.SetUsers([]*server.User{admin}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the removed user's connection is still open")
	}
	if nc, err := nats.Connect("nats://reader:r@127.0.0.1:" + strconv.Itoa(ns.Port())); err == nil {
		nc.Close()
		t.Fatal("a removed user connected again")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("removed user: %v, want an authorization error", err)
	}
	if _, err := js.Publish(ctx, "auth.two", []byte("two")); err != nil {
		t.Fatalf("admin after revoking another user: %v", err)
	}
}
