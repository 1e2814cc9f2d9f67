package cert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gowebpki/jcs"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Names of the checks, in the order Verify makes them.
const (
	CheckFormat       = "format"       // compact JWS and protected header
	CheckIssuerKey    = "issuer_key"   // kid is the trust bundle's issuer key
	CheckSignature    = "signature"    // JWS signature under that key
	CheckCredential   = "credential"   // the payload is this chain's exit credential
	CheckExitTx       = "exit_tx"      // the exit envelope's own signature
	CheckInclusion    = "inclusion"    // the envelope is in the log at the block
	CheckBlockHash    = "block_hash"   // the header hashes to the block hash
	CheckEpoch        = "epoch"        // the block's epoch is in force at its height
	CheckCosignatures = "cosignatures" // every cosignature is a recorder's
	CheckQuorum       = "quorum"       // enough recorders cosigned
)

// Check is one verification step and its outcome.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Result is a verification's outcome: the checks made, in order, ending at
// the first failure. It is the shape of POST /v1/certificates/verify.
type Result struct {
	Valid  bool    `json:"valid"`
	CertNo string  `json:"cert_no,omitempty"`
	Checks []Check `json:"checks"`
	Reason string  `json:"reason,omitempty"`
	// Credential is the verified payload (set once the signature holds).
	Credential *Credential `json:"-"`
}

// Error is the failure of one check.
type Error struct {
	Check  string
	Reason string
}

func (e *Error) Error() string { return "certificate invalid: " + e.Check + ": " + e.Reason }

// Verify checks a compact JWS certificate offline against trust: the JWS
// signature under the issuer key, the credential's consistency with the
// exit transaction it carries, that transaction's signature by its
// submitter, its inclusion proof against the block header's log root, the
// header's hash, and the recorders' cosignature quorum of the header's
// epoch. It returns the Result in every case, and a non-nil *Error naming
// the first failed check when the certificate is not valid. Revocation is
// not visible offline: ask a query service (GET /v1/certificates/{cert_no}).
func Verify(jws string, trust *block.TrustBundle) (*Result, error) {
	v := &verifier{res: &Result{Checks: []Check{}}, trust: trust}
	err := v.run(jws)
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			ce = &Error{Check: CheckFormat, Reason: err.Error()}
		}
		v.res.Checks = append(v.res.Checks, Check{Name: ce.Check, Detail: ce.Reason})
		v.res.Reason = ce.Check + ": " + ce.Reason
		return v.res, ce
	}
	v.res.Valid = true
	return v.res, nil
}

type verifier struct {
	res   *Result
	trust *block.TrustBundle
	s     suite.Suite
	cred  *Credential
	raw   rawCredential
	env   *txn.Envelope
	epoch *membership.Epoch
}

// rawCredential holds the parts of the payload that are checked as bytes.
type rawCredential struct {
	CredentialSubject struct {
		Ledger struct {
			Tx    json.RawMessage `json:"tx"`
			Block struct {
				Header json.RawMessage `json:"header"`
			} `json:"block"`
		} `json:"ledger"`
	} `json:"credentialSubject"`
}

func (v *verifier) ok(name, detail string) {
	v.res.Checks = append(v.res.Checks, Check{Name: name, OK: true, Detail: detail})
}

func fail(check, format string, args ...any) *Error {
	return &Error{Check: check, Reason: fmt.Sprintf(format, args...)}
}

func (v *verifier) run(jws string) error {
	if v.trust == nil {
		return fail(CheckIssuerKey, "no trust bundle")
	}
	s, err := suite.ByName(v.trust.CryptoSuite)
	if err != nil {
		return fail(CheckFormat, "trust bundle: %v", err)
	}
	v.s = s
	c, err := parseCompact(jws)
	if err != nil {
		return fail(CheckFormat, "%v", err)
	}
	if c.header.Alg != s.JWSAlg() {
		return fail(CheckFormat, "alg %q, the chain's suite %s signs with %q", c.header.Alg, s.Name(), s.JWSAlg())
	}
	v.ok(CheckFormat, "compact JWS, alg "+c.header.Alg)
	is := v.trust.Issuer
	if c.header.Kid != is.KeyID || is.Alg != s.Name() {
		return fail(CheckIssuerKey, "unknown issuer key %q (the trust bundle's issuer %s has key %q)", c.header.Kid, is.ID, is.KeyID)
	}
	v.ok(CheckIssuerKey, "issuer "+is.ID+" key "+is.KeyID)
	if !s.Verify(is.Public, []byte(c.input), c.sig) {
		return fail(CheckSignature, "the JWS signature does not verify under the issuer key %s: the certificate was changed or not signed by the issuer", is.KeyID)
	}
	v.ok(CheckSignature, "")
	for _, step := range []func([]byte) error{v.credential, v.exitTx, v.inclusion, v.blockHash, v.cosignatures} {
		if err := step(c.payload); err != nil {
			return err
		}
	}
	return nil
}

// credential decodes the payload and checks it describes this chain's exit.
func (v *verifier) credential(payload []byte) error {
	var cred Credential
	if err := json.Unmarshal(payload, &cred); err != nil {
		return fail(CheckCredential, "payload is not a credential: %v", err)
	}
	if err := json.Unmarshal(payload, &v.raw); err != nil {
		return fail(CheckCredential, "payload is not a credential: %v", err)
	}
	v.cred, v.res.Credential = &cred, &cred
	v.res.CertNo = cred.CertNo()
	cs := &cred.CredentialSubject
	switch {
	case len(cred.Context) == 0 || cred.Context[0] != ContextV2:
		return fail(CheckCredential, "@context does not start with %s", ContextV2)
	case !slices.Contains(cred.Type, TypeVC) || !slices.Contains(cred.Type, TypeExit):
		return fail(CheckCredential, "type %v is not [%s %s]", cred.Type, TypeVC, TypeExit)
	case cred.Issuer != IssuerURN(v.trust.Issuer.ID):
		return fail(CheckCredential, "issuer %q, the trust bundle's issuer is %q", cred.Issuer, IssuerURN(v.trust.Issuer.ID))
	case len(v.raw.CredentialSubject.Ledger.Tx) == 0:
		return fail(CheckCredential, "credentialSubject.ledger.tx is missing")
	}
	h, err := block.DecodeHeader(v.raw.CredentialSubject.Ledger.Block.Header)
	if err != nil {
		return fail(CheckCredential, "credentialSubject.ledger.block.header: %v", err)
	}
	cs.Ledger.Block.Header = *h
	if h.Chain != v.trust.ChainID {
		return fail(CheckCredential, "block of chain %q, the trust bundle is for %q", h.Chain, v.trust.ChainID)
	}
	env, p, err := decodeExit(v.raw.CredentialSubject.Ledger.Tx)
	if err != nil {
		return fail(CheckCredential, "credentialSubject.ledger.tx: %v", err)
	}
	v.env = env
	txID, err := env.ID(v.s)
	if err != nil {
		return fail(CheckCredential, "exit tx: %v", err)
	}
	t, err := txn.ParseTime(h.Time)
	if err != nil {
		return fail(CheckCredential, "block time: %v", err)
	}
	no, err := CertNo(txID, t)
	if err != nil {
		return fail(CheckCredential, "%v", err)
	}
	switch {
	case cred.ID != URN(no):
		return fail(CheckCredential, "id %q, the exit %s gives %q", cred.ID, txID, URN(no))
	case env.Chain != v.trust.ChainID:
		return fail(CheckCredential, "exit tx of chain %q, the trust bundle is for %q", env.Chain, v.trust.ChainID)
	case p.RecordID != cs.Record.RecordID:
		return fail(CheckCredential, "record %s, the exit tx ends record %s", cs.Record.RecordID, p.RecordID)
	case cs.Exit.Reason != p.Reason:
		return fail(CheckCredential, "exit reason %q, the exit tx says %q", cs.Exit.Reason, p.Reason)
	case cs.Exit.Time != h.Time || cred.ValidFrom != h.Time:
		return fail(CheckCredential, "exit time %q and validFrom %q, the block's time is %q", cs.Exit.Time, cred.ValidFrom, h.Time)
	case cs.ID != cs.Subject.Code:
		return fail(CheckCredential, "credentialSubject.id %q is not the subject's code %q", cs.ID, cs.Subject.Code)
	}
	v.ok(CheckCredential, "certificate "+no+" for record "+p.RecordID)
	return nil
}

// exitTx checks the exit envelope's signature by a recorder of the block's
// epoch, with the key the trust bundle lists for it.
func (v *verifier) exitTx([]byte) error {
	h := &v.cred.CredentialSubject.Ledger.Block.Header
	e, err := v.trust.Epoch(h.Epoch)
	if err != nil {
		return fail(CheckEpoch, "%v", err)
	}
	v.epoch = e
	var m *membership.Member
	for i := range e.Members {
		if e.Members[i].ID == v.env.Submitter {
			m = &e.Members[i]
		}
	}
	if m == nil {
		return fail(CheckExitTx, "submitter %s is not a member of epoch %d in the trust bundle", v.env.Submitter, h.Epoch)
	}
	if !m.HasRole(membership.RoleRecorder) {
		return fail(CheckExitTx, "submitter %s is not a recorder in epoch %d", m.ID, h.Epoch)
	}
	k, ok := m.Key(v.env.Sig.KeyID)
	if !ok {
		return fail(CheckExitTx, "submitter %s has no key %q in the trust bundle", m.ID, v.env.Sig.KeyID)
	}
	if err := v.env.VerifySignature(v.s, k.Public); err != nil {
		return fail(CheckExitTx, "signature of %s: %v", m.ID, err)
	}
	v.ok(CheckExitTx, "signed by "+m.ID)
	return nil
}

// inclusion checks the proof of the envelope's JCS bytes (its log leaf)
// against the header's log root and size.
func (v *verifier) inclusion([]byte) error {
	ld := &v.cred.CredentialSubject.Ledger
	p, h := &ld.Inclusion, &ld.Block.Header
	txID, _ := v.env.ID(v.s)
	switch {
	case p.TxID != txID:
		return fail(CheckInclusion, "proof is for tx %s, the exit tx is %s", p.TxID, txID)
	case p.TreeSize != h.LogSize:
		return fail(CheckInclusion, "proof is for tree size %d, the block's log_size is %d", p.TreeSize, h.LogSize)
	case p.Root != h.LogRoot:
		return fail(CheckInclusion, "proof root %s is not the block's log_root %s", p.Root, h.LogRoot)
	case h.TxCount < 1 || uint64(h.TxCount) > h.LogSize || p.LeafIndex >= h.LogSize || p.LeafIndex < h.LogSize-uint64(h.TxCount):
		return fail(CheckInclusion, "leaf %d is not among the block's transactions (leaves %d to %d)", p.LeafIndex, h.LogSize-uint64(h.TxCount), h.LogSize)
	}
	leaf, err := jcs.Transform(v.raw.CredentialSubject.Ledger.Tx)
	if err != nil {
		return fail(CheckInclusion, "exit tx: %v", err)
	}
	if err := p.Verify(merklelog.NewHasher(v.s), leaf); err != nil {
		return fail(CheckInclusion, "the proof does not lead from the exit tx to the block's log root: %v", err)
	}
	v.ok(CheckInclusion, fmt.Sprintf("leaf %d of %d", p.LeafIndex, p.TreeSize))
	return nil
}

func (v *verifier) blockHash([]byte) error {
	b := &v.cred.CredentialSubject.Ledger.Block
	hash, err := b.Header.Hash(v.s)
	if err != nil {
		return fail(CheckBlockHash, "%v", err)
	}
	if !bytes.Equal([]byte(hash), []byte(b.Hash)) {
		return fail(CheckBlockHash, "the header hashes to %s, the block hash says %s: the header was changed", hash, b.Hash)
	}
	v.ok(CheckBlockHash, fmt.Sprintf("block %d %s", b.Header.Height, hash))
	return nil
}

// cosignatures checks the epoch is the one in force at the block's height
// (so that the recorders of an old epoch cannot sign a later block) and
// that a quorum of its recorders cosigned the hash.
func (v *verifier) cosignatures([]byte) error {
	b := &v.cred.CredentialSubject.Ledger.Block
	h := &b.Header
	if v.epoch.FromHeight > h.Height {
		return fail(CheckEpoch, "block %d claims epoch %d, which starts at height %d", h.Height, h.Epoch, v.epoch.FromHeight)
	}
	for _, te := range v.trust.Epochs {
		if te.Epoch > h.Epoch && te.FromHeight <= h.Height {
			return fail(CheckEpoch, "block %d claims epoch %d, but epoch %d is in force from height %d", h.Height, h.Epoch, te.Epoch, te.FromHeight)
		}
	}
	v.ok(CheckEpoch, fmt.Sprintf("epoch %d", h.Epoch))
	err := block.VerifyCosignatures(v.s, h.Chain, b.Hash, b.Cosignatures, v.epoch, v.trust.Quorum)
	var ve *block.VerifyError
	if errors.As(err, &ve) {
		return fail(ve.Check, "%s", ve.Message)
	}
	if err != nil {
		return fail(CheckCosignatures, "%v", err)
	}
	v.ok(CheckCosignatures, fmt.Sprintf("%d recorders", len(b.Cosignatures)))
	v.ok(CheckQuorum, v.trust.Quorum)
	return nil
}
