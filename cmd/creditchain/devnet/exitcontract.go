package devnet

import (
	"context"
	"fmt"
	"sync"

	exitcontract "github.com/creditchain/creditchain/services/exit-contract"
)

// exitContracts holds the running exit-contracts of every network: *Network
// -> *exitContractSet. It lives here rather than in Network so that the
// exit-contract wiring stays in this one file.
var exitContracts sync.Map

type exitContractSet struct {
	mu   sync.Mutex
	byID map[string]*exitcontract.Service
}

// exitContractSet returns n's set, creating it on first use. Network.Close
// closes the etcd client, which cancels the client's context: that stops
// the exit-contracts without Close having to know of them.
func (n *Network) exitContractSet() *exitContractSet {
	if v, ok := exitContracts.Load(n); ok {
		return v.(*exitContractSet)
	}
	v, loaded := exitContracts.LoadOrStore(n, &exitContractSet{byID: map[string]*exitcontract.Service{}})
	set := v.(*exitContractSet)
	if !loaded {
		go func() {
			<-n.etcd.Ctx().Done()
			set.mu.Lock()
			running := set.byID
			set.byID = map[string]*exitcontract.Service{}
			set.mu.Unlock()
			for _, svc := range running {
				svc.Close()
			}
			exitContracts.Delete(n)
		}()
	}
	return set
}

// StartExitContract starts recorder id's exit-contract on its institution's
// replica, submitting through the network's intake with the recorder's key
// and the network's clock (intake checks created_at against that clock).
func (n *Network) StartExitContract(ctx context.Context, id string) error {
	in, _, err := n.institution(id)
	if err != nil {
		return err
	}
	url, err := n.ReplicaURL(ctx, id)
	if err != nil {
		return err
	}
	set := n.exitContractSet()
	set.mu.Lock()
	defer set.mu.Unlock()
	if set.byID[id] != nil {
		return fmt.Errorf("exit-contract of %s is already running", id)
	}
	svc, err := exitcontract.Start(ctx, exitcontract.Config{Key: in.Key, DatabaseURL: url, IntakeURL: n.IntakeURL,
		Clock: n.opts.Clock, Logger: n.opts.Logger})
	if err != nil {
		return fmt.Errorf("exit-contract of %s: %w", id, err)
	}
	set.byID[id] = svc
	return nil
}

// StopExitContract stops recorder id's exit-contract and waits for it.
func (n *Network) StopExitContract(id string) {
	v, ok := exitContracts.Load(n)
	if !ok {
		return
	}
	set := v.(*exitContractSet)
	set.mu.Lock()
	svc := set.byID[id]
	delete(set.byID, id)
	set.mu.Unlock()
	if svc != nil {
		svc.Close()
	}
}

// ExitContract returns recorder id's running exit-contract, or nil.
func (n *Network) ExitContract(id string) *exitcontract.Service {
	v, ok := exitContracts.Load(n)
	if !ok {
		return nil
	}
	set := v.(*exitContractSet)
	set.mu.Lock()
	defer set.mu.Unlock()
	return set.byID[id]
}
