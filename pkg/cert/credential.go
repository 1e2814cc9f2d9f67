package cert

import (
	"encoding/json"
	"fmt"

	"github.com/gowebpki/jcs"

	"github.com/creditchain/creditchain/pkg/block"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/suite"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Fixed values of every credential.
const (
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	TypeVC    = "VerifiableCredential"
	TypeExit  = "CreditExitCertificate"
	Title     = "失信惩戒退出证明"
)

// Credential is the certificate's W3C Verifiable Credential 2.0: the JWS
// payload. Only the base context is used; its @vocab covers the
// creditchain terms, so a JSON-LD processor needs no extra document.
type Credential struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"` // urn:creditchain:cert:<cert_no>
	Type              []string          `json:"type"`
	Issuer            string            `json:"issuer"` // urn:creditchain:member:<USCC>
	Name              string            `json:"name"`
	ValidFrom         string            `json:"validFrom"` // the exit block's time
	CredentialSubject CredentialSubject `json:"credentialSubject"`
}

// CredentialSubject is what the certificate states (DESIGN 9.7).
type CredentialSubject struct {
	ID      string        `json:"id"` // subject code, masked for persons
	Subject SubjectDoc    `json:"subject"`
	Record  RecordSummary `json:"record"`
	Exit    ExitFacts     `json:"exit"`
	Ledger  Evidence      `json:"ledger"`
}

// SubjectDoc is a subject as documents show it: a person's code (ID
// number) and name are masked (DESIGN 9.6 edge rules).
type SubjectDoc struct {
	Kind string `json:"kind"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// RecordSummary is the record the exit ended.
type RecordSummary struct {
	RecordID   string `json:"record_id"`
	Category   string `json:"category"`
	Authority  string `json:"authority"`   // institution id
	DocumentNo string `json:"document_no"` // case number
	Start      string `json:"start"`
	Term       string `json:"term,omitempty"` // absent when indefinite
}

// ExitFacts are the exit's block time and the reason of the record.exit.
type ExitFacts struct {
	Time   string `json:"time"`
	Reason string `json:"reason"`
}

// Evidence is what makes the certificate verifiable without the chain.
type Evidence struct {
	Tx        json.RawMessage          `json:"tx"` // the full signed exit envelope
	Inclusion merklelog.InclusionProof `json:"inclusion"`
	Block     BlockEvidence            `json:"block"`
}

// BlockEvidence is the block that committed the exit, without its txs.
type BlockEvidence struct {
	Header       block.Header        `json:"header"`
	Hash         string              `json:"hash"`
	Cosignatures []block.Cosignature `json:"cosignatures"`
}

// CertNo returns the certificate number in the credential's id.
func (c *Credential) CertNo() string {
	const prefix = "urn:creditchain:cert:"
	if len(c.ID) > len(prefix) && c.ID[:len(prefix)] == prefix {
		return c.ID[len(prefix):]
	}
	return ""
}

// Exit is what Build needs about one committed exit; the signer reads it
// from a replica.
type Exit struct {
	Record *ledger.Record
	// Personal is the sidecar of a person subject (nil for organizations).
	Personal *txn.Personal
	// Tx is the exit envelope's JSON (the replica keeps its JCS bytes).
	Tx []byte
	// Inclusion proves Tx in the log at Block's log_size.
	Inclusion merklelog.InclusionProof
	// Block committed Tx; its txs are not used.
	Block *block.Block
	// Issuer is the issuing institution's id (the trust bundle's issuer).
	Issuer string
}

// Build assembles the credential of an exit and checks that its pieces
// belong together: the envelope is the record's exit, the proof names it
// and stands at the block's log head.
func Build(s suite.Suite, in *Exit) (*Credential, error) {
	r, b := in.Record, in.Block
	if r == nil || b == nil {
		return nil, fmt.Errorf("cert: build: record and block are required")
	}
	if r.Exit == nil {
		return nil, fmt.Errorf("cert: build: record %s has not exited", r.ID)
	}
	raw, err := jcs.Transform(in.Tx)
	if err != nil {
		return nil, fmt.Errorf("cert: build: exit envelope: %w", err)
	}
	env, p, err := decodeExit(raw)
	if err != nil {
		return nil, fmt.Errorf("cert: build: %w", err)
	}
	txID, err := env.ID(s)
	if err != nil {
		return nil, fmt.Errorf("cert: build: %w", err)
	}
	switch {
	case p.RecordID != r.ID:
		return nil, fmt.Errorf("cert: build: exit tx %s is about record %s, not %s", txID, p.RecordID, r.ID)
	case txID != r.Exit.TxID:
		return nil, fmt.Errorf("cert: build: record %s exited by %s, not %s", r.ID, r.Exit.TxID, txID)
	case in.Inclusion.TxID != txID:
		return nil, fmt.Errorf("cert: build: inclusion proof is for %s, not %s", in.Inclusion.TxID, txID)
	case in.Inclusion.TreeSize != b.Header.LogSize || in.Inclusion.Root != b.Header.LogRoot:
		return nil, fmt.Errorf("cert: build: inclusion proof is at size %d, block %d has log size %d", in.Inclusion.TreeSize, b.Header.Height, b.Header.LogSize)
	case in.Issuer == "":
		return nil, fmt.Errorf("cert: build: no issuer")
	}
	exitTime, err := txn.ParseTime(b.Header.Time)
	if err != nil {
		return nil, fmt.Errorf("cert: build: block time: %w", err)
	}
	no, err := CertNo(txID, exitTime)
	if err != nil {
		return nil, err
	}
	subj, err := subjectDoc(s, r.Subject, in.Personal)
	if err != nil {
		return nil, err
	}
	cosigs := b.Cosignatures
	if cosigs == nil {
		cosigs = []block.Cosignature{}
	}
	return &Credential{
		Context:   []string{ContextV2},
		ID:        URN(no),
		Type:      []string{TypeVC, TypeExit},
		Issuer:    IssuerURN(in.Issuer),
		Name:      Title,
		ValidFrom: b.Header.Time,
		CredentialSubject: CredentialSubject{
			ID:      subj.Code,
			Subject: subj,
			Record: RecordSummary{
				RecordID: r.ID, Category: r.Category, Authority: r.Authority,
				DocumentNo: r.Basis.DocumentNo, Start: txn.FormatTime(r.Start), Term: r.Term,
			},
			Exit:   ExitFacts{Time: b.Header.Time, Reason: p.Reason},
			Ledger: Evidence{Tx: raw, Inclusion: in.Inclusion, Block: BlockEvidence{Header: b.Header, Hash: b.Hash, Cosignatures: cosigs}},
		},
	}, nil
}

// subjectDoc shows a subject: an organization in clear, a person masked.
// A person's sidecar must match the commitment on the ledger, so that a
// wrong sidecar cannot put someone else's name on a certificate.
func subjectDoc(s suite.Suite, sub txn.Subject, p *txn.Personal) (SubjectDoc, error) {
	if sub.Kind != txn.SubjectPerson {
		return SubjectDoc{Kind: sub.Kind, Code: sub.USCC, Name: sub.Name}, nil
	}
	if p == nil {
		return SubjectDoc{}, fmt.Errorf("cert: build: the person's sidecar is not available (purged?)")
	}
	c, err := txn.Commitment(s, p)
	if err != nil {
		return SubjectDoc{}, fmt.Errorf("cert: build: %w", err)
	}
	if c != sub.Commitment {
		return SubjectDoc{}, fmt.Errorf("cert: build: the sidecar does not match the subject's commitment")
	}
	return SubjectDoc{Kind: txn.SubjectPerson, Code: ids.MaskID(p.IDNumber), Name: ids.MaskName(p.Name)}, nil
}

// decodeExit decodes a signed record.exit envelope and its payload.
func decodeExit(raw []byte) (*txn.Envelope, *txn.RecordExit, error) {
	env, err := txn.DecodeEnvelope(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("exit envelope: %w", err)
	}
	if env.Type != txn.TypeRecordExit {
		return nil, nil, fmt.Errorf("transaction is a %s, not a record.exit", env.Type)
	}
	if env.Sig == nil {
		return nil, nil, fmt.Errorf("exit envelope is not signed")
	}
	p, err := txn.DecodePayload(env.Type, env.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("exit payload: %w", err)
	}
	return env, p.(*txn.RecordExit), nil
}
