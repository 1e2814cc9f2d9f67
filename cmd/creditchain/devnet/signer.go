package devnet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/creditchain/creditchain/services/signer"
)

// signers holds the running signer of every network: *Network ->
// *signerSlot. It lives here rather than in Network so that the signer's
// wiring stays in this one file.
var signers sync.Map

type signerSlot struct {
	mu sync.Mutex
	s  *signer.Signer
}

// signerSlot returns n's slot, creating it on first use. Network.Close
// closes the etcd client, which cancels the client's context: that stops
// the signer without Close having to know of it.
func (n *Network) signerSlot() *signerSlot {
	if v, ok := signers.Load(n); ok {
		return v.(*signerSlot)
	}
	v, loaded := signers.LoadOrStore(n, &signerSlot{})
	slot := v.(*signerSlot)
	if !loaded {
		go func() {
			<-n.etcd.Ctx().Done()
			slot.mu.Lock()
			s := slot.s
			slot.s = nil
			slot.mu.Unlock()
			if s != nil {
				s.Close()
			}
			signers.Delete(n)
		}()
	}
	return slot
}

// StartSigner starts the network's certificate signer (one per network) on
// the issuer's replica, with the issuer's key, submitting certificate.issue
// through the network's intake. The PDF's QR code leads to the issuer's
// portal, looked up at each issuance since the portal may start later.
func (n *Network) StartSigner(ctx context.Context) error {
	in, _, err := n.institution(n.Genesis.Issuer.ID)
	if err != nil {
		return fmt.Errorf("signer: the issuer: %w", err)
	}
	url, err := n.ReplicaURL(ctx, in.Member.ID)
	if err != nil {
		return err
	}
	slot := n.signerSlot()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.s != nil {
		return fmt.Errorf("the signer is already running")
	}
	portal := func() string {
		if u := n.queryURLs()[in.Member.ID]; u != "" {
			return u
		}
		return "http://127.0.0.1:8080"
	}
	s, err := signer.Start(ctx, signer.Config{DatabaseURL: url, IssuerKey: in.Key, IntakeURL: n.IntakeURL,
		PortalURL: portal, Poll: 200 * time.Millisecond, Clock: n.opts.Clock, Logger: n.opts.Logger})
	if err != nil {
		return err
	}
	slot.s = s
	return nil
}

// StopSigner stops the signer and waits for it.
func (n *Network) StopSigner() {
	v, ok := signers.Load(n)
	if !ok {
		return
	}
	slot := v.(*signerSlot)
	slot.mu.Lock()
	s := slot.s
	slot.s = nil
	slot.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// Signer returns the running signer, or nil.
func (n *Network) Signer() *signer.Signer {
	v, ok := signers.Load(n)
	if !ok {
		return nil
	}
	slot := v.(*signerSlot)
	slot.mu.Lock()
	defer slot.mu.Unlock()
	return slot.s
}
