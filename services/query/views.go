package query

import (
	"context"
	"fmt"
	"net/url"

	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/creditchain/creditchain/pkg/merklelog"
	"github.com/creditchain/creditchain/pkg/txn"
)

// SubjectView is a record's subject as shown: an organization in clear, a
// person masked (DESIGN 9.6 edge rules). Optional members are absent, never
// null or empty.
type SubjectView struct {
	Kind string `json:"kind"`
	// Code is the look-up code: the USCC, or the masked ID number. A person
	// whose sidecar was purged has none.
	Code string `json:"code,omitempty"`
	// USCC repeats an organization's code under the payload's member name.
	USCC string `json:"uscc,omitempty"`
	// Name is an organization's name, or a person's masked name.
	Name string `json:"name,omitempty"`
	// Commitment is a person's commitment as on the ledger: it links the
	// document to the chain without revealing anything.
	Commitment string `json:"commitment,omitempty"`
}

// RecordSummary is a record in a subject look-up: the record document of
// DESIGN 9.7 without history and proof.
type RecordSummary struct {
	RecordID    string           `json:"record_id"`
	Subject     SubjectView      `json:"subject"`
	Category    string           `json:"category"`
	Authority   string           `json:"authority"`
	Basis       txn.Basis        `json:"basis"`
	Start       string           `json:"start"`
	Term        string           `json:"term,omitempty"`
	Measures    []string         `json:"measures"`
	Policy      ledger.PolicyRef `json:"policy"`
	Status      string           `json:"status"`
	Exit        *ExitView        `json:"exit,omitempty"`
	Certificate *CertificateRef  `json:"certificate,omitempty"`
}

// RecordDocument is GET /v1/records/{record_id} (DESIGN 9.7).
type RecordDocument struct {
	RecordSummary
	History []HistoryView            `json:"history"`
	Proof   merklelog.InclusionProof `json:"proof"`
}

// HistoryView is one transaction of a record; time is the block time.
type HistoryView struct {
	TxID   string `json:"tx_id"`
	Type   string `json:"type"`
	Height uint64 `json:"height"`
	Time   string `json:"time"`
}

// ExitView is how a record left the list.
type ExitView struct {
	TxID   string `json:"tx_id"`
	Height uint64 `json:"height"`
	Reason string `json:"reason"`
}

// CertificateRef points at a record's exit certificate.
type CertificateRef struct {
	CertNo string `json:"cert_no"`
	URL    string `json:"url"`
}

// personal is the part of a sidecar that may be shown, masked.
type personal struct {
	maskedCode, maskedName string
}

// sidecars reads the sidecars of commitments, masked; a purged one is absent.
func (s *Server) sidecars(ctx context.Context, commitments []string) (map[string]personal, error) {
	out := map[string]personal{}
	if len(commitments) == 0 {
		return out, nil
	}
	rows, err := s.store.Pool.Query(ctx, `SELECT commitment, name, id_number FROM personal WHERE commitment = ANY($1)`, commitments)
	if err != nil {
		return nil, fmt.Errorf("read sidecars: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, name, id string
		if err := rows.Scan(&c, &name, &id); err != nil {
			return nil, fmt.Errorf("read sidecars: %w", err)
		}
		out[c] = personal{maskedCode: ids.MaskID(id), maskedName: ids.MaskName(name)}
	}
	return out, rows.Err()
}

func subjectView(sub txn.Subject, people map[string]personal) SubjectView {
	if sub.Kind != txn.SubjectPerson {
		return SubjectView{Kind: sub.Kind, Code: sub.USCC, USCC: sub.USCC, Name: sub.Name}
	}
	p := people[sub.Commitment]
	return SubjectView{Kind: sub.Kind, Code: p.maskedCode, Name: p.maskedName, Commitment: sub.Commitment}
}

func summarize(r *ledger.Record, people map[string]personal) RecordSummary {
	out := RecordSummary{
		RecordID: r.ID, Subject: subjectView(r.Subject, people), Category: r.Category, Authority: r.Authority,
		Basis: r.Basis, Start: txn.FormatTime(r.Start), Term: r.Term, Measures: r.Measures,
		Policy: r.Policy, Status: r.Status,
	}
	if out.Measures == nil {
		out.Measures = []string{}
	}
	if r.Exit != nil {
		out.Exit = &ExitView{TxID: r.Exit.TxID, Height: r.Exit.Height, Reason: r.Exit.Reason}
	}
	if r.Certificate != "" {
		out.Certificate = &CertificateRef{CertNo: r.Certificate, URL: "/v1/certificates/" + url.PathEscape(r.Certificate)}
	}
	return out
}

func history(r *ledger.Record) []HistoryView {
	out := make([]HistoryView, len(r.History))
	for i, h := range r.History {
		out[i] = HistoryView{TxID: h.TxID, Type: h.Type, Height: h.Height, Time: txn.FormatTime(h.Time)}
	}
	return out
}
