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
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/services/replicator"
	"github.com/nats-io/nats-server/v2/server"
)

// NATS users of a dev network (docs/membership.md). The operator's admin
// may do anything; intake and each recorder's consensus-ledger publish and
// read what their service needs; each member institution's replicator may
// only consume LEDGER through its own durable consumer and read SIDECARS.
// Removing a member's users when it is suspended or removed closes its
// connections at once.
const (
	natsAdmin  = "admin"
	natsIntake = "intake"
)

// NATSConsensusUser is the NATS user of recorder id's consensus-ledger.
func NATSConsensusUser(id string) string { return "consensus-" + id }

// NATSReplicaUser is the NATS user of institution id's replicator: the
// name of its durable consumer.
func NATSReplicaUser(id string) string { return replicator.ConsumerName(id) }

// serviceDeny is what no service may ask JetStream: destroying or
// rewinding the streams is the operator's alone.
var serviceDeny = []string{
	"$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>",
	"$JS.API.STREAM.SNAPSHOT.>", "$JS.API.STREAM.RESTORE.>", "$JS.API.ACCOUNT.PURGE.>",
}

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

// users are the NATS users that membership e entitles: only active members
// have any, only active recorders run consensus.
func (a *natsAuth) users(e *membership.Epoch) []*server.User {
	out := []*server.User{
		{Username: natsAdmin, Password: a.password(natsAdmin)},
		{Username: natsIntake, Password: a.password(natsIntake), Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{">"},
				Deny: append([]string{streams.LedgerSubject, streams.VoteSubjectPrefix + ">"}, serviceDeny...)},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
		}},
	}
	for _, m := range e.Members {
		if !m.Active() {
			continue
		}
		u := NATSReplicaUser(m.ID)
		out = append(out, &server.User{Username: u, Password: a.password(u), Permissions: replicaPermissions(m.ID)})
		if m.HasRole(membership.RoleRecorder) {
			u := NATSConsensusUser(m.ID)
			out = append(out, &server.User{Username: u, Password: a.password(u), Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: serviceDeny},
				// Its own vote subject only: no recorder answers for another.
				Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", streams.LedgerSubject, streams.VoteSubjectPrefix + m.ID}},
			}})
		}
	}
	return out
}

// replicaPermissions let an institution's replicator consume LEDGER through
// its own durable consumer, fetch single LEDGER messages (repair from the
// stream) and read person sidecars, which every replica keeps off-chain
// (DESIGN 5). Replies come to its own inbox prefix only, so it cannot read
// other clients' replies (pending transactions on their way to a leader).
func replicaPermissions(id string) *server.Permissions {
	c := replicator.ConsumerName(id)
	ledger, sidecars := streams.LedgerStream, "KV_"+streams.SidecarsBucket
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO." + ledger,
			"$JS.API.STREAM.INFO." + sidecars,
			"$JS.API.CONSUMER.CREATE." + ledger + "." + c,
			"$JS.API.CONSUMER.CREATE." + ledger + "." + c + ".>",
			"$JS.API.CONSUMER.DURABLE.CREATE." + ledger + "." + c,
			"$JS.API.CONSUMER.INFO." + ledger + "." + c,
			"$JS.API.CONSUMER.MSG.NEXT." + ledger + "." + c,
			"$JS.ACK." + ledger + "." + c + ".>",
			"$JS.ACK.*.*." + ledger + "." + c + ".>",
			"$JS.API.STREAM.MSG.GET." + ledger,
			"$JS.API.DIRECT.GET." + ledger,
			"$JS.API.DIRECT.GET." + ledger + ".>",
			"$JS.API.STREAM.MSG.GET." + sidecars,
			"$JS.API.DIRECT.GET." + sidecars + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{replicator.InboxPrefix(id) + ".>"}},
	}
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
