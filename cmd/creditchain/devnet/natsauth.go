package devnet

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/natsauth"
	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of a dev network (docs/membership.md). The operator's admin
// may do anything; intake and each recorder's consensus-ledger publish and
// read what their service needs; each member institution's replicator may
// only consume LEDGER through its own durable consumer and read SIDECARS.
// Removing a member's users when it is suspended or removed closes its
// connections at once.
const (
	natsAdmin  = natsauth.Admin
	natsIntake = natsauth.Intake
)

// NATSConsensusUser is the NATS user of recorder id's consensus-ledger.
func NATSConsensusUser(id string) string { return natsauth.ConsensusUser(id) }

// NATSReplicaUser is the NATS user of institution id's replicator: the
// name of its durable consumer.
func NATSReplicaUser(id string) string { return natsauth.ReplicaUser(id) }

// natsAuth holds the users of the network's own embedded NATS server.
type natsAuth struct {
	srv  *harness.NATS
	host string // 127.0.0.1:port

	mu      sync.Mutex
	pass    map[string]string // user -> password, made on first use
	applied []string          // the user names last installed
}

func newNATSAuth(srv *harness.NATS) *natsAuth {
	return &natsAuth{srv: srv, host: fmt.Sprintf("127.0.0.1:%d", srv.Port()), pass: map[string]string{}}
}

func (a *natsAuth) password(user string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pass[user]
	if !ok {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		p = hex.EncodeToString(b)
		a.pass[user] = p
	}
	return p
}

// url is the client URL of user, credentials included.
func (a *natsAuth) url(user string) string {
	u := url.URL{Scheme: "nats", User: url.UserPassword(user, a.password(user)), Host: a.host}
	return u.String()
}

// users are the NATS users that membership e entitles (pkg/natsauth, which
// the Helm chart's users file is made from too): only active members have
// any, only active recorders run consensus.
func (a *natsAuth) users(e *membership.Epoch) []*server.User {
	var out []*server.User
	for _, u := range natsauth.Entitled(e) {
		su := &server.User{Username: u.Name, Password: a.password(u.Name)}
		if p := u.Permissions; p != nil {
			su.Permissions = &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: p.PublishAllow, Deny: p.PublishDeny},
				Subscribe: &server.SubjectPermission{Allow: p.SubscribeAllow},
			}
		}
		out = append(out, su)
	}
	return out
}

// apply installs the users of e, reloading the server only when the set of
// users changed. The server closes the connections of users that are gone.
func (a *natsAuth) apply(e *membership.Epoch) error {
	users := a.users(e)
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	slices.Sort(names)
	a.mu.Lock()
	same := slices.Equal(names, a.applied)
	a.mu.Unlock()
	if same {
		return nil
	}
	if err := a.srv.SetUsers(users); err != nil {
		return fmt.Errorf("NATS users for epoch %d: %w", e.Epoch, err)
	}
	a.mu.Lock()
	a.applied = names
	a.mu.Unlock()
	return nil
}
