package devnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditchain/creditchain/pkg/harness"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/registry"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// memberState is how a dev network follows its membership (DESIGN 6): the
// consensus nodes publish every committed epoch to etcd, and the network,
// acting as the supervisor of every institution's services, follows etcd:
// it installs the NATS users the epoch entitles, starts the services of a
// newly admitted institution whose key it holds, starts or stops
// consensus when a member gains or loses the recorder role, stops the
// services of a suspended or removed member, and restarts an institution's
// signing services when its key was rotated.
type memberState struct {
	reg    *registry.Registry
	auth   *natsAuth // nil when NATS runs without authorization
	mu     sync.Mutex
	synced atomic.Uint64 // the newest epoch the services follow
}

// keyPath is where the network keeps institution id's key file.
func (n *Network) keyPath(id string) string { return filepath.Join(n.opts.Dir, "keys", id+".json") }

// startMembership loads the membership in force from etcd (it may be newer
// than the genesis when the network resumes), adopts the institutions it
// admitted before, and turns NATS authorization on for srv when the network
// owns an embedded server. It runs before any service starts.
func (n *Network) startMembership(ctx context.Context, srv *harness.NATS) error {
	reg, err := registry.Watch(n.etcd.Ctx(), n.etcd, n.Genesis.ChainID)
	if err != nil {
		return err
	}
	n.mem = &memberState{reg: reg}
	cur := reg.Current()
	n.adopt(cur)
	if srv != nil && !srv.External() && !n.opts.NoNATSAuth {
		n.mem.auth = newNATSAuth(srv)
		if err := n.mem.auth.apply(cur); err != nil {
			return err
		}
		n.NATSURL = n.mem.auth.url(natsAdmin)
		// Replicators may then only consume: the streams must exist first.
		if err := ensureStreams(ctx, n.NATSURL); err != nil {
			return err
		}
	}
	n.mem.synced.Store(cur.Epoch)
	return nil
}

// ensureStreams creates the network's streams as the operator.
func ensureStreams(ctx context.Context, url string) error {
	nc, err := nats.Connect(url, nats.Name("creditchain dev"))
	if err != nil {
		return fmt.Errorf("connect nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	return streams.Ensure(ctx, js, streams.Options{})
}

// natsURLFor is the NATS URL a service connects with: its own user's when
// authorization is on.
func (n *Network) natsURLFor(user string) string {
	if n.mem == nil || n.mem.auth == nil {
		return n.NATSURL
	}
	return n.mem.auth.url(user)
}

// NATSURLFor is the client URL, with credentials, of NATS user (see
// NATSReplicaUser and NATSConsensusUser); without authorization it is
// NATSURL. Tests use it to act as one institution.
func (n *Network) NATSURLFor(user string) string { return n.natsURLFor(user) }

// adopt brings n.Institutions up to date with e: members change in place,
// and a member the network does not know yet joins when its key file is in
// Dir/keys (AdmitInstitution puts it there; so can an operator who made
// the key with `creditchain keygen`). It returns the ids that joined.
func (n *Network) adopt(e *membership.Epoch) []string {
	var joined []string
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range e.Members {
		i := slices.IndexFunc(n.Institutions, func(in Institution) bool { return in.Member.ID == m.ID })
		if i >= 0 {
			n.Institutions[i].Member = m
			continue
		}
		kf, err := suite.LoadKeyFile(n.keyPath(m.ID))
		if err != nil {
			continue
		}
		if _, ok := m.Key(kf.KeyID); !ok {
			continue
		}
		n.Institutions = append(n.Institutions, Institution{Member: m, Key: kf})
		joined = append(joined, m.ID)
	}
	return joined
}

// followMembership applies every new epoch etcd shows until ctx ends.
func (n *Network) followMembership(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e := n.mem.reg.Current()
		if e == nil || e.Epoch <= n.mem.synced.Load() {
			continue
		}
		if err := n.syncMembership(ctx, e); err != nil && ctx.Err() == nil {
			n.opts.Logger.Warn("follow membership", "epoch", e.Epoch, "err", err)
		}
	}
}

// syncMembership makes the network's users and services those of e.
func (n *Network) syncMembership(ctx context.Context, e *membership.Epoch) error {
	n.mem.mu.Lock()
	defer n.mem.mu.Unlock()
	if e.Epoch <= n.mem.synced.Load() {
		return nil
	}
	if n.mem.auth != nil {
		if err := n.mem.auth.apply(e); err != nil {
			return err
		}
	}
	n.adopt(e)
	var errs []error
	for _, in := range slices.Clone(n.Institutions) {
		errs = append(errs, n.reconcile(ctx, in))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := n.refreshNetworkJSON(ctx, e.Epoch); err != nil {
		return err
	}
	n.mem.synced.Store(e.Epoch)
	n.opts.Progress(fmt.Sprintf("membership epoch %d in force", e.Epoch))
	return nil
}

// reconcile starts or stops institution in's services to match its
// membership: none while inactive; a replicator and a query service while
// active; consensus and an exit-contract while an active recorder. A key
// rotated on the ledger is picked up from Dir/keys once the file there
// holds a key of the member, and the signing services restart with it.
func (n *Network) reconcile(ctx context.Context, in Institution) error {
	id := in.Member.ID
	if !in.Member.Active() {
		n.StopExitContract(id)
		n.StopConsensus(id)
		n.StopReplicator(id)
		return nil
	}
	if _, ok := in.Member.Key(in.Key.KeyID); !ok {
		kf, err := suite.LoadKeyFile(n.keyPath(id))
		if err != nil {
			return fmt.Errorf("%s: its key %s was replaced on the ledger: %w", id, in.Key.KeyID, err)
		}
		if _, ok := in.Member.Key(kf.KeyID); !ok {
			return fmt.Errorf("%s: its key %s was replaced on the ledger and %s holds no key of it", id, in.Key.KeyID, n.keyPath(id))
		}
		n.setKey(id, kf)
		n.StopExitContract(id)
		n.StopConsensus(id)
	}
	recorder := in.Member.HasRole(membership.RoleRecorder)
	if n.Replicator(id) == nil {
		if err := n.StartReplicator(ctx, id); err != nil {
			return err
		}
	}
	if n.queryURLs()[id] == "" {
		if err := n.StartQuery(ctx, id, -1); err != nil {
			return err
		}
	}
	if !recorder {
		n.StopExitContract(id)
		n.StopConsensus(id)
		return nil
	}
	if n.Consensus(id) == nil {
		if err := n.StartConsensus(ctx, id); err != nil {
			return err
		}
	}
	if n.ExitContract(id) == nil {
		if err := n.StartExitContract(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (n *Network) setKey(id string, kf *suite.KeyFile) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.Institutions {
		if n.Institutions[i].Member.ID == id {
			n.Institutions[i].Key = kf
		}
	}
}

// refreshNetworkJSON rewrites network.json and the trust bundle once the
// credit center's replica holds epoch, so that the bundle lists it.
func (n *Network) refreshNetworkJSON(ctx context.Context, epoch uint64) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r := n.Replicator(n.Institutions[0].Member.ID); r != nil {
			if e, err := r.Store().Membership(ctx); err == nil && e.Epoch >= epoch {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n.writeNetworkJSON()
}

// AdmitSpec describes an institution to admit.
type AdmitSpec struct {
	Name       string
	Kind       string // one of membership.Kinds
	Roles      []string
	Categories []string
}

// AdmitInstitution plans a new institution with a fresh key, has the
// regulator admit it with a member.update, and once the admission is in
// force starts its services (consensus and an exit-contract for a
// recorder, a replicator and a query service for every member). It
// returns the new institution, now last in n.Institutions.
func (n *Network) AdmitInstitution(ctx context.Context, spec AdmitSpec) (Institution, error) {
	cur := n.mem.reg.Current()
	var id string
	for i := len(n.Institutions) + 1; ; i++ {
		c, err := DevUSCC(i)
		if err != nil {
			return Institution{}, err
		}
		if _, taken := cur.Member(c); !taken {
			id = c
			break
		}
	}
	s, err := suite.ByName(n.Genesis.CryptoSuite)
	if err != nil {
		return Institution{}, err
	}
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		return Institution{}, err
	}
	kf := suite.NewKeyFile(id, k)
	if err := kf.Save(n.keyPath(id)); err != nil {
		return Institution{}, err
	}
	st, err := n.UpdateMember(ctx, txn.MemberUpdate{Action: txn.ActionAdmit, Member: txn.MemberSpec{
		ID: id, Name: spec.Name, Kind: spec.Kind, Roles: spec.Roles, Categories: spec.Categories,
		Keys: []membership.Key{{KeyID: kf.KeyID, Alg: kf.Alg, Public: kf.Public}},
	}})
	if err == nil && st.Status != "committed" {
		err = fmt.Errorf("admission of %s rejected: %s", id, st.Reason)
	}
	if err != nil {
		_ = os.Remove(n.keyPath(id))
		return Institution{}, err
	}
	in, _, err := n.institution(id)
	return in, err
}

// SuspendInstitution has the regulator suspend member id; its services stop
// and its NATS users go once the suspension is in force.
func (n *Network) SuspendInstitution(ctx context.Context, id string) (*Status, error) {
	return n.UpdateMember(ctx, txn.MemberUpdate{Action: txn.ActionSuspend, Member: txn.MemberSpec{ID: id}})
}

// RemoveInstitution has the regulator remove member id, as SuspendInstitution.
func (n *Network) RemoveInstitution(ctx context.Context, id string) (*Status, error) {
	return n.UpdateMember(ctx, txn.MemberUpdate{Action: txn.ActionRemove, Member: txn.MemberSpec{ID: id}})
}

// RotateKey gives institution id a fresh key: the regulator's member.update
// replaces its keys, and once that is in force the institution's signing
// services restart with the new key. Blocks signed with the old key still
// verify: their epochs keep it.
func (n *Network) RotateKey(ctx context.Context, id string) (*suite.KeyFile, error) {
	in, _, err := n.institution(id)
	if err != nil {
		return nil, err
	}
	s, err := suite.ByName(n.Genesis.CryptoSuite)
	if err != nil {
		return nil, err
	}
	k, err := s.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	kf := suite.NewKeyFile(id, k)
	// The new key goes in place first, so that the services pick it up as
	// soon as the update is in force; the old one comes back if it fails.
	if err := kf.Save(n.keyPath(id)); err != nil {
		return nil, err
	}
	m := in.Member
	st, err := n.UpdateMember(ctx, txn.MemberUpdate{Action: txn.ActionUpdate, Member: txn.MemberSpec{
		ID: id, Name: m.Name, Kind: m.Kind, Roles: m.Roles, Categories: m.Categories,
		Keys: []membership.Key{{KeyID: kf.KeyID, Alg: kf.Alg, Public: kf.Public}},
	}})
	if err == nil && st.Status != "committed" {
		err = fmt.Errorf("key rotation of %s rejected: %s", id, st.Reason)
	}
	if err != nil {
		_ = in.Key.Save(n.keyPath(id))
		return nil, err
	}
	return kf, nil
}

// UpdateMember signs p as the regulator, submits it, waits for its outcome
// and, when it committed, until the network's services follow the new
// epoch. A refusal at intake is an error; a rejection is the status.
func (n *Network) UpdateMember(ctx context.Context, p txn.MemberUpdate) (*Status, error) {
	i := slices.IndexFunc(n.Institutions, func(in Institution) bool {
		return in.Member.Active() && in.Member.HasRole(membership.RoleRegulator)
	})
	if i < 0 {
		return nil, errors.New("the network has no active regulator")
	}
	c := n.Client(i)
	env, _, err := c.Sign(txn.TypeMemberUpdate, p)
	if err != nil {
		return nil, err
	}
	st, err := c.Submit(ctx, env, nil)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if st, err = c.Wait(wctx, st.TxID); err != nil || st.Status != "committed" {
		return st, err
	}
	// The new epoch is in force from the next block.
	return st, n.waitMembership(wctx, st.Height+1)
}

// waitMembership waits until the services (and network.json) follow an
// epoch in force from height from or later.
func (n *Network) waitMembership(ctx context.Context, from uint64) error {
	for {
		if e := n.mem.reg.Current(); e != nil && e.FromHeight >= from && n.mem.synced.Load() >= e.Epoch {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the membership change at height %d is not in force in etcd: %w", from-1, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Membership is the membership in force as etcd shows it to the services.
func (n *Network) Membership() *membership.Epoch { return n.mem.reg.Current() }

// Dir is the network's directory: genesis.json, keys/, network.json.
func (n *Network) Dir() string { return n.opts.Dir }
