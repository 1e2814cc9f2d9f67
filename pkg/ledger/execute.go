package ledger

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/policy"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Rejection is why a transaction was refused by consensus.
type Rejection struct {
	Code    string
	Message string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Message }

func reject(code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Tx is a transaction ready for execution: its envelope, id and decoded payload.
type Tx struct {
	ID       string
	Envelope *txn.Envelope
	Payload  any
	// SigOK is set by VerifySignatures once the signature has been checked
	// against the key the membership in force holds for the submitter.
	SigOK bool
}

// Executor applies transactions to a Batch. It is safe for concurrent use;
// it caches compiled policies, which are immutable per (id, version).
type Executor struct {
	Suite    suite.Suite
	compiled sync.Map // "id@version" -> *policy.Compiled
}

// Block is the context a transaction executes in.
type Block struct {
	Height uint64
	Time   time.Time
}

// Decode parses a canonical envelope into a Tx, checking its shape. A decoding
// failure is a rejection, since a proposer may include any bytes.
func (x *Executor) Decode(data []byte) (*Tx, *Rejection) {
	env, err := txn.DecodeEnvelope(data)
	if err != nil {
		return nil, reject("malformed", "%v", err)
	}
	id, err := env.ID(x.Suite)
	if err != nil {
		return nil, reject("malformed", "%v", err)
	}
	p, err := txn.DecodePayload(env.Type, env.Payload)
	if err != nil {
		return &Tx{ID: id, Envelope: env}, reject("malformed", "%v", err)
	}
	return &Tx{ID: id, Envelope: env, Payload: p}, nil
}

// Execute applies tx to b at block blk. A *Rejection means the transaction is
// refused and b is unchanged; any other error is a failure to read state.
// Already committed transactions are refused with code "duplicate" so that a
// redelivered transaction is never applied twice.
func (x *Executor) Execute(ctx context.Context, b *Batch, blk Block, tx *Tx) error {
	if done, err := b.Committed(ctx, tx.ID); err != nil {
		return err
	} else if done {
		return reject("duplicate", "transaction %s is already committed", tx.ID)
	}
	env := tx.Envelope
	m, err := b.Membership(ctx)
	if err != nil {
		return err
	}
	category := ""
	if rc, ok := tx.Payload.(*txn.RecordCreate); ok {
		category = rc.Category
	}
	_, key, aerr := Authorize(m, env.Submitter, env.Sig.KeyID, env.Type, category)
	if aerr != nil {
		return reject(aerr.Code, "%s", aerr.Message)
	}
	if !tx.SigOK {
		if err := env.VerifySignature(x.Suite, key.Public); err != nil {
			return reject("bad_signature", "%v", err)
		}
	}
	if err := x.apply(ctx, b, blk, tx, m); err != nil {
		return err
	}
	b.txIndex[tx.ID] = true
	b.Txs = append(b.Txs, tx.ID)
	return nil
}

func (x *Executor) apply(ctx context.Context, b *Batch, blk Block, tx *Tx, m *membership.Epoch) error {
	hist := HistoryEntry{TxID: tx.ID, Type: tx.Envelope.Type, Height: blk.Height, Time: blk.Time}
	submitter := tx.Envelope.Submitter
	switch p := tx.Payload.(type) {
	case *txn.ReportSubmit:
		b.Reports[tx.ID] = &Report{ID: tx.ID, Subject: p.Subject, Category: p.Category, Submitter: submitter, Height: blk.Height}
		return nil
	case *txn.RecordCreate:
		return x.createRecord(ctx, b, tx, p, hist)
	case *txn.RecordAttest:
		r, err := x.authorityRecord(ctx, b, p.RecordID, submitter, StatusActive)
		if err != nil {
			return err
		}
		at, _ := time.Parse(time.RFC3339Nano, p.At)
		r.Attestations = append(r.Attestations, Attestation{Kind: p.Kind, At: at, TxID: tx.ID})
		r.History = append(r.History, hist)
		return nil
	case *txn.RepairApply:
		r, err := x.recordIn(ctx, b, p.RecordID, StatusActive)
		if err != nil {
			return err
		}
		if r.Repair.Status == "pending" {
			return reject("repair_pending", "record %s already has a pending repair application", r.ID)
		}
		b.Repairs[tx.ID] = &RepairApplication{ID: tx.ID, RecordID: r.ID, Status: "pending"}
		r.Repair = Repair{Status: "pending", Application: tx.ID}
		r.History = append(r.History, hist)
		return nil
	case *txn.RepairDecide:
		r, err := x.authorityRecord(ctx, b, p.RecordID, submitter, StatusActive)
		if err != nil {
			return err
		}
		app, err := b.RepairApplication(ctx, p.Application)
		if err != nil {
			return err
		}
		if app == nil || app.RecordID != r.ID {
			return reject("unknown_application", "no repair application %s for record %s", p.Application, r.ID)
		}
		if app.Status != "pending" {
			return reject("invalid_status", "repair application %s is already %s", app.ID, app.Status)
		}
		b.Repairs[app.ID] = &RepairApplication{ID: app.ID, RecordID: r.ID, Status: p.Decision}
		r.Repair = Repair{Status: p.Decision, Application: app.ID, DecidedAt: blk.Time}
		r.History = append(r.History, hist)
		return nil
	case *txn.ObjectionFile:
		r, err := x.recordIn(ctx, b, p.RecordID, StatusActive)
		if err != nil {
			return err
		}
		b.Objections[tx.ID] = &Objection{ID: tx.ID, RecordID: r.ID, Status: "open"}
		r.History = append(r.History, hist)
		return nil
	case *txn.ObjectionResolve:
		o, err := b.Objection(ctx, p.Objection)
		if err != nil {
			return err
		}
		if o == nil {
			return reject("unknown_objection", "no objection %s", p.Objection)
		}
		if o.Status != "open" {
			return reject("invalid_status", "objection %s is already %s", o.ID, o.Status)
		}
		r, err := x.authorityRecord(ctx, b, o.RecordID, submitter, "")
		if err != nil {
			return err
		}
		b.Objections[o.ID] = &Objection{ID: o.ID, RecordID: o.RecordID, Status: p.Outcome}
		r.History = append(r.History, hist)
		return nil
	case *txn.RecordRevoke:
		r, err := x.authorityRecord(ctx, b, p.RecordID, submitter, StatusActive)
		if err != nil {
			return err
		}
		r.Status = StatusRevoked
		r.Revoked = &Exit{TxID: tx.ID, Height: blk.Height, Time: blk.Time, Reason: p.Reason}
		r.History = append(r.History, hist)
		return nil
	case *txn.RecordExit:
		return x.exitRecord(ctx, b, blk, tx, p, hist)
	case *txn.RecordPurge:
		return x.purgeRecord(ctx, b, blk, p, hist)
	case *txn.CertificateIssue:
		return x.issueCertificate(ctx, b, tx, p, hist)
	case *txn.CertificateRevoke:
		c, err := b.Certificate(ctx, p.CertNo)
		if err != nil {
			return err
		}
		if c == nil {
			return reject("unknown_certificate", "no certificate %s", p.CertNo)
		}
		if c.Status == "revoked" {
			return reject("invalid_status", "certificate %s is already revoked", p.CertNo)
		}
		cc := *c
		cc.Status = "revoked"
		b.Certificates[c.CertNo] = &cc
		return nil
	case *txn.MemberUpdate:
		return x.updateMembership(ctx, b, blk, p)
	case *txn.PolicyPropose:
		return x.proposePolicy(ctx, b, blk, submitter, p, m)
	case *txn.PolicyApprove:
		return x.approvePolicy(ctx, b, submitter, p, m)
	}
	return reject("malformed", "unsupported transaction type %s", tx.Envelope.Type)
}

// recordIn loads a record for change (copy on write) and checks its status
// when status is not empty.
func (x *Executor) recordIn(ctx context.Context, b *Batch, id, status string) (*Record, error) {
	r, err := b.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, reject("unknown_record", "no record %s", id)
	}
	if status != "" && r.Status != status {
		return nil, reject("invalid_status", "record %s is %s, not %s", id, r.Status, status)
	}
	c := r.clone()
	b.Records[id] = c
	return c, nil
}

// authorityRecord is recordIn for actions only the record's authority may take.
func (x *Executor) authorityRecord(ctx context.Context, b *Batch, id, submitter, status string) (*Record, error) {
	r, err := b.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	if r != nil && r.Authority != submitter {
		return nil, reject("not_authority", "only %s, the authority of record %s, may do this", r.Authority, id)
	}
	return x.recordIn(ctx, b, id, status)
}

func (r *Record) clone() *Record {
	c := *r
	c.Measures = slices.Clone(r.Measures)
	c.Attestations = slices.Clone(r.Attestations)
	c.History = slices.Clone(r.History)
	if r.Exit != nil {
		e := *r.Exit
		c.Exit = &e
	}
	if r.Revoked != nil {
		e := *r.Revoked
		c.Revoked = &e
	}
	return &c
}

func (x *Executor) createRecord(ctx context.Context, b *Batch, tx *Tx, p *txn.RecordCreate, hist HistoryEntry) error {
	if p.ReportRef != "" {
		rep, err := b.Report(ctx, p.ReportRef)
		if err != nil {
			return err
		}
		if rep == nil {
			return reject("unknown_report", "no report %s", p.ReportRef)
		}
	}
	ps, err := b.Policy(ctx, p.Policy)
	if err != nil {
		return err
	}
	if ps == nil || ps.Active == 0 {
		return reject("unknown_policy", "no active policy %q", p.Policy)
	}
	if cat, err := b.Policy(ctx, p.Category); err != nil {
		return err
	} else if cat == nil {
		return reject("unknown_category", "no category %q", p.Category)
	}
	start, _ := time.Parse(time.RFC3339Nano, p.Start)
	b.Records[tx.ID] = &Record{
		ID: tx.ID, Subject: p.Subject, Category: p.Category, Authority: tx.Envelope.Submitter,
		Measures: slices.Clone(p.Measures), Basis: p.Basis, Start: start, Term: p.Term,
		Policy: PolicyRef{ID: ps.ID, Version: ps.Active}, Status: StatusActive,
		ReportRef: p.ReportRef, Repair: Repair{Status: "none"}, History: []HistoryEntry{hist},
	}
	return nil
}

// Compiled returns the compiled policy version, compiling it once.
func (x *Executor) Compiled(pv *PolicyVersion) (*policy.Compiled, error) {
	key := fmt.Sprintf("%s@%d", pv.Policy.ID, pv.Policy.Version)
	if c, ok := x.compiled.Load(key); ok {
		return c.(*policy.Compiled), nil
	}
	p := pv.Policy
	c, err := policy.Compile(&p)
	if err != nil {
		return nil, err
	}
	x.compiled.Store(key, c)
	return c, nil
}

// Evaluate runs the record's bound policy at time now.
func (x *Executor) Evaluate(ctx context.Context, s StateReader, r *Record, now time.Time) (policy.Decision, *PolicyVersion, error) {
	ps, err := s.Policy(ctx, r.Policy.ID)
	if err != nil {
		return policy.Decision{}, nil, err
	}
	if ps == nil {
		return policy.Decision{}, nil, reject("unknown_policy", "no policy %q", r.Policy.ID)
	}
	pv, ok := ps.Version(r.Policy.Version)
	if !ok {
		return policy.Decision{}, nil, reject("unknown_policy", "no version %d of policy %q", r.Policy.Version, r.Policy.ID)
	}
	c, err := x.Compiled(pv)
	if err != nil {
		return policy.Decision{}, nil, fmt.Errorf("compile policy %s@%d: %w", pv.Policy.ID, pv.Policy.Version, err)
	}
	d, err := c.Evaluate(PolicyInput(r), now)
	if err != nil {
		return policy.Decision{}, nil, reject("policy_error", "evaluate %s@%d: %v", pv.Policy.ID, pv.Policy.Version, err)
	}
	return d, pv, nil
}

// PolicyInput is the view of a record that policies see (DESIGN 9.5).
func PolicyInput(r *Record) *policy.Record {
	in := &policy.Record{
		ID: r.ID, Category: r.Category, Authority: r.Authority, Start: r.Start,
		Measures: r.Measures, Status: r.Status,
		Repair: policy.Repair{Status: r.Repair.Status, DecidedAt: r.Repair.DecidedAt},
	}
	if r.Term != "" {
		if d, err := policy.ParseDuration(r.Term); err == nil {
			in.Term = &d
		}
	}
	for _, a := range r.Attestations {
		in.Attestations = append(in.Attestations, policy.Attestation{Kind: a.Kind, At: a.At})
	}
	return in
}

func (x *Executor) exitRecord(ctx context.Context, b *Batch, blk Block, tx *Tx, p *txn.RecordExit, hist HistoryEntry) error {
	r, err := x.recordIn(ctx, b, p.RecordID, StatusActive)
	if err != nil {
		return err
	}
	if p.Policy != r.Policy.ID || p.Version != r.Policy.Version {
		return reject("policy_mismatch", "record %s is bound to %s@%d, not %s@%d", r.ID, r.Policy.ID, r.Policy.Version, p.Policy, p.Version)
	}
	d, _, err := x.Evaluate(ctx, b, r, blk.Time)
	if err != nil {
		return err
	}
	if !d.Eligible {
		return reject("policy_not_satisfied", "policy %s@%d does not hold for record %s at %s", p.Policy, p.Version, r.ID, blk.Time.Format(time.RFC3339))
	}
	r.Status = StatusExited
	r.Exit = &Exit{TxID: tx.ID, Height: blk.Height, Time: blk.Time, Reason: p.Reason}
	r.History = append(r.History, hist)
	return nil
}

func (x *Executor) purgeRecord(ctx context.Context, b *Batch, blk Block, p *txn.RecordPurge, hist HistoryEntry) error {
	r, err := x.recordIn(ctx, b, p.RecordID, "")
	if err != nil {
		return err
	}
	ended := r.Exit
	if ended == nil {
		ended = r.Revoked
	}
	if ended == nil || (r.Status != StatusExited && r.Status != StatusRevoked) {
		return reject("invalid_status", "record %s is %s; only exited or revoked records are purged", r.ID, r.Status)
	}
	ps, err := b.Policy(ctx, r.Policy.ID)
	if err != nil {
		return err
	}
	if ps == nil {
		return reject("unknown_policy", "no policy %q", r.Policy.ID)
	}
	pv, ok := ps.Version(r.Policy.Version)
	if !ok {
		return reject("unknown_policy", "no version %d of policy %q", r.Policy.Version, r.Policy.ID)
	}
	after, err := policy.ParseDuration(pv.Policy.PurgeAfter)
	if err != nil {
		return reject("policy_error", "purge_after of %s@%d: %v", pv.Policy.ID, pv.Policy.Version, err)
	}
	if due := after.AddTo(ended.Time); blk.Time.Before(due) {
		return reject("policy_not_satisfied", "record %s may be purged from %s", r.ID, due.Format(time.RFC3339))
	}
	r.Status = StatusPurged
	r.History = append(r.History, hist)
	if r.Subject.Kind == "person" {
		b.Purged = append(b.Purged, r.Subject.Commitment)
	}
	return nil
}

func (x *Executor) issueCertificate(ctx context.Context, b *Batch, tx *Tx, p *txn.CertificateIssue, hist HistoryEntry) error {
	if c, err := b.Certificate(ctx, p.CertNo); err != nil {
		return err
	} else if c != nil {
		return reject("duplicate_certificate", "certificate %s already exists", p.CertNo)
	}
	r, err := x.recordIn(ctx, b, p.RecordID, StatusExited)
	if err != nil {
		return err
	}
	if r.Exit == nil || r.Exit.TxID != p.ExitTx {
		return reject("exit_mismatch", "record %s did not exit by %s", r.ID, p.ExitTx)
	}
	b.Certificates[p.CertNo] = &Certificate{CertNo: p.CertNo, RecordID: r.ID, ExitTx: p.ExitTx, CertHash: p.CertHash, Status: "valid", TxID: tx.ID}
	r.Certificate = p.CertNo
	r.History = append(r.History, hist)
	return nil
}
