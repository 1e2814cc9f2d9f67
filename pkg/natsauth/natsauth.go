// Package natsauth says who may do what on a network's NATS server (DESIGN 6,
// docs/membership.md): one user per service and per member institution, each
// with subject permissions, derived from a membership epoch. It is pure data
// so that there is one source for both places that install the users: the
// dev network's embedded server (cmd/creditchain/devnet) and the users file
// that `creditchain nats-users` writes beside a production server (the Helm
// chart), whose rendered configuration deploy/helmtest checks against it.
package natsauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/streams"
)

// Users that do not depend on the membership.
const (
	// Admin is the operator: anything, including the destructive JetStream
	// API (`creditchain ledger repair --nats`).
	Admin = "admin"
	// Intake publishes submissions to TXS, sidecars and receipts.
	Intake = "intake"
)

// ConsensusUser is the user of recorder id's consensus-ledger.
func ConsensusUser(id string) string { return "consensus-" + id }

// ReplicaUser is the user of institution id's replicator. It is also the
// name of its durable consumer on LEDGER (replicator.ConsumerName), which
// its permissions are tied to.
func ReplicaUser(id string) string { return "replica-" + id }

// ReplicaInboxPrefix is where institution id's replicator receives replies
// (replicator.InboxPrefix): the only subjects it may subscribe to.
func ReplicaInboxPrefix(id string) string { return "_INBOX." + ReplicaUser(id) }

// Permissions are a user's subject permissions in NATS terms.
type Permissions struct {
	PublishAllow   []string
	PublishDeny    []string
	SubscribeAllow []string
}

// User is one NATS user. Permissions nil means unrestricted (the operator).
type User struct {
	Name        string
	Permissions *Permissions
}

// ServiceDeny is what no service may ask JetStream: destroying or rewinding
// the streams is the operator's alone.
func ServiceDeny() []string {
	return []string{
		"$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>",
		"$JS.API.STREAM.SNAPSHOT.>", "$JS.API.STREAM.RESTORE.>", "$JS.API.ACCOUNT.PURGE.>",
	}
}

// IntakePermissions let intake publish what a submission needs (TXS, the
// SIDECARS and RECEIPTS buckets, stream creation) but never a block or a
// vote, which only recorders produce.
func IntakePermissions() *Permissions {
	return &Permissions{
		PublishAllow:   []string{">"},
		PublishDeny:    append([]string{streams.LedgerSubject, streams.VoteSubjectPrefix + ">", streams.CosignedSubject}, ServiceDeny()...),
		SubscribeAllow: []string{"_INBOX.>"},
	}
}

// ConsensusPermissions let recorder id's consensus-ledger propose, append
// and vote. It hears votes on its own subject only, so no recorder can
// answer a proposal in another's name. Every recorder hears the cosigned
// statements (equivocation evidence), which carry their own signatures.
func ConsensusPermissions(id string) *Permissions {
	return &Permissions{
		PublishAllow:   []string{">"},
		PublishDeny:    ServiceDeny(),
		SubscribeAllow: []string{"_INBOX.>", streams.LedgerSubject, streams.VoteSubjectPrefix + id, streams.CosignedSubject},
	}
}

// ReplicaPermissions let institution id's replicator consume LEDGER through
// its own durable consumer, fetch single LEDGER messages (repair from the
// stream) and read person sidecars, which every replica keeps off-chain
// (DESIGN 5). Replies come to its own inbox prefix only, so it cannot read
// other clients' replies (pending transactions on their way to a leader).
// It can neither publish to TXS, nor touch another institution's consumer,
// nor change a stream.
func ReplicaPermissions(id string) *Permissions {
	c := ReplicaUser(id)
	ledger, sidecars := streams.LedgerStream, "KV_"+streams.SidecarsBucket
	return &Permissions{
		PublishAllow: []string{
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
		},
		SubscribeAllow: []string{ReplicaInboxPrefix(id) + ".>"},
	}
}

// Entitled lists the users membership e entitles, operator and intake
// first, then per member in the epoch's order: only active members have a
// replica user, only active recorders a consensus user, so a suspended or
// removed member has none.
func Entitled(e *membership.Epoch) []User {
	out := []User{{Name: Admin}, {Name: Intake, Permissions: IntakePermissions()}}
	if e == nil {
		return out
	}
	for _, m := range e.Members {
		if !m.Active() {
			continue
		}
		out = append(out, User{Name: ReplicaUser(m.ID), Permissions: ReplicaPermissions(m.ID)})
		if m.HasRole(membership.RoleRecorder) {
			out = append(out, User{Name: ConsensusUser(m.ID), Permissions: ConsensusPermissions(m.ID)})
		}
	}
	return out
}

// ErrNoUsers is UsersFile's refusal to write a users list that is empty:
// NATS reads an empty list as no authorization at all.
var ErrNoUsers = errors.New("natsauth: no user has a password")

// UsersFile renders the users that membership e entitles and that have a
// password in passwords (by user name) as a NATS configuration fragment, an
// `authorization { users = [...] }` block for the server's configuration
// to include. Users without a password are left out (they get no access)
// and returned in missing, in the order Entitled lists them. The output
// depends only on its inputs, so an unchanged membership gives the same
// bytes and needs no reload.
func UsersFile(e *membership.Epoch, passwords map[string]string) (conf []byte, missing []string, err error) {
	var b strings.Builder
	var epoch uint64
	if e != nil {
		epoch = e.Epoch
	}
	fmt.Fprintf(&b, "# NATS users of membership epoch %d, written by `creditchain nats-users`\n", epoch)
	b.WriteString("# from etcd and the passwords Secret. Do not edit: it is rewritten.\n")
	b.WriteString("authorization {\n  users = [\n")
	n := 0
	for _, u := range Entitled(e) {
		pw, ok := passwords[u.Name]
		if !ok || pw == "" {
			missing = append(missing, u.Name)
			continue
		}
		n++
		fmt.Fprintf(&b, "    {user: %s, password: %s", quote(u.Name), quote(pw))
		if p := u.Permissions; p != nil {
			b.WriteString(", permissions: {\n")
			fmt.Fprintf(&b, "      publish: {allow: %s", list(p.PublishAllow))
			if len(p.PublishDeny) > 0 {
				fmt.Fprintf(&b, ", deny: %s", list(p.PublishDeny))
			}
			b.WriteString("}\n")
			fmt.Fprintf(&b, "      subscribe: {allow: %s}\n    }", list(p.SubscribeAllow))
		}
		b.WriteString("}\n")
	}
	b.WriteString("  ]\n}\n")
	if n == 0 {
		return nil, missing, ErrNoUsers
	}
	return []byte(b.String()), missing, nil
}

// quote writes s as a double-quoted NATS configuration string. Quoting
// keeps `$` literal (unquoted, it would name a variable) and the escapes
// are the only ones the NATS lexer knows.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func list(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
