package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/ids"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/go-chi/chi/v5"
)

// CertificateAnswer is GET /v1/certificates/{cert_no} (DESIGN 9.6).
type CertificateAnswer struct {
	CertNo string `json:"cert_no"`
	Status string `json:"status"` // valid|revoked, as on the ledger
	JWS    string `json:"jws"`
}

// CertificateIssued is the self-service answer, POST /v1/certificates/request.
type CertificateIssued struct {
	CertNo string `json:"cert_no"`
	JWS    string `json:"jws"`
	PDFURL string `json:"pdf_url"`
}

// CheckStatus is the online check POST /v1/certificates/verify adds to
// cert.Verify's offline ones: the ledger's status of the certificate.
const CheckStatus = "status"

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) {
	no, pdf := strings.CutSuffix(chi.URLParam(r, "cert_no"), ".pdf")
	c, aerr, err := s.issuedCertificate(r.Context(), no, r.Header.Get(forwardedHeader) != "")
	switch {
	case err != nil:
		s.writeUnavailable(w, r, err)
		return
	case aerr != nil:
		writeError(w, aerr)
		return
	}
	if !pdf {
		writeJSON(w, http.StatusOK, CertificateAnswer{CertNo: no, Status: c.ledger.Status, JWS: c.jws})
		return
	}
	if c.pdf == nil {
		msg := "certificate " + no + " has no PDF rendering here"
		if strings.Contains(c.pdfURL, "://") {
			msg += ": it is served at " + c.pdfURL
		}
		writeError(w, apierr.New(404, "not_found", "%s", msg))
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+no+`.pdf"`)
	_, _ = w.Write(c.pdf)
}

// maxVerifyBody bounds POST /v1/certificates/verify: a certificate's JWS
// is a few KiB (one exit transaction, a proof, a header, cosignatures).
const maxVerifyBody = 256 << 10

func (s *Server) postVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JWS *string `json:"jws"`
	}
	if aerr := decodeStrict(r, maxVerifyBody, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if req.JWS == nil {
		writeError(w, apierr.Malformed(`missing member "jws"`))
		return
	}
	res, err := s.verify(r.Context(), strings.TrimSpace(*req.JWS))
	if err != nil {
		s.writeUnavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// verify checks jws offline against this replica's trust bundle
// (cert.Verify) and then online against the ledger: a certificate is valid
// only if the ledger holds it as issued with this very document (its
// anchored hash) and not revoked.
func (s *Server) verify(ctx context.Context, jws string) (*cert.Result, error) {
	tb, err := s.trustBundle(ctx)
	if err != nil {
		return nil, err
	}
	res, verr := cert.Verify(jws, tb)
	if verr != nil {
		return res, nil
	}
	c, err := s.store.Certificate(ctx, res.CertNo)
	if err != nil {
		return nil, err
	}
	failed := func(reason, detail string) {
		res.Valid = false
		res.Checks = append(res.Checks, cert.Check{Name: CheckStatus, Detail: detail})
		res.Reason = reason + ": " + detail
	}
	switch {
	case c == nil:
		failed(CheckStatus, "certificate "+res.CertNo+" is not (yet) issued on the ledger")
	case c.CertHash != cert.Hash(s.store.Suite, jws):
		failed(CheckStatus, "the ledger anchors another document as certificate "+res.CertNo)
	case c.Status == "revoked":
		failed("revoked", "certificate "+res.CertNo+" has been revoked on the ledger")
	case c.Status != "valid":
		failed(CheckStatus, fmt.Sprintf("certificate %s has status %q on the ledger", res.CertNo, c.Status))
	default:
		res.Checks = append(res.Checks, cert.Check{Name: CheckStatus, OK: true, Detail: "issued on the ledger by " + c.TxID + ", not revoked"})
	}
	return res, nil
}

// maxRequestBody bounds POST /v1/certificates/request: a code and a case
// number.
const maxRequestBody = 4 << 10

func (s *Server) postCertificateRequest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code       *string `json:"code"`
		DocumentNo *string `json:"document_no"`
	}
	if aerr := decodeStrict(r, maxRequestBody, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if req.Code == nil || req.DocumentNo == nil {
		writeError(w, apierr.Malformed(`the body must be {"code": "...", "document_no": "..."}`))
		return
	}
	ans, aerr, err := s.requestCertificate(r.Context(), *req.Code, *req.DocumentNo, "POST /v1/certificates/request")
	switch {
	case err != nil:
		s.writeUnavailable(w, r, err)
	case aerr != nil:
		writeError(w, aerr)
	default:
		writeJSON(w, http.StatusOK, ans)
	}
}

// errNoSuchCertificate is the one answer to every unsuccessful
// self-service request, whatever was wrong: telling a wrong code from a
// wrong case number would let anyone probe who is on the list under which
// case.
var errNoSuchCertificate = apierr.New(404, "not_found", "no certificate for this subject code and case number")

// requestCertificate finds the certificate of an exited record of the
// subject code with case number docNo. A person's code is the ID number,
// matched through the replica's sidecars; the request is written to the
// access log like a look-up.
func (s *Server) requestCertificate(ctx context.Context, code, docNo, endpoint string) (*CertificateIssued, *apierr.Error, error) {
	kinds, err := s.classify(code)
	if err != nil || docNo == "" {
		return nil, errNoSuchCertificate, nil
	}
	orgCode, person := "", false
	for _, k := range kinds {
		if k == ids.Organization {
			orgCode = code
		}
		person = person || k == ids.Person
	}
	commitments := []string{}
	if person {
		if commitments, err = s.commitmentsOf(ctx, code); err != nil {
			return nil, nil, err
		}
	}
	recs, err := s.exitedRecords(ctx, orgCode, commitments, docNo)
	if err != nil {
		return nil, nil, err
	}
	if person {
		var found []string
		for _, r := range recs {
			if r.Subject.Commitment != "" {
				found = append(found, r.Subject.Commitment)
			}
		}
		if err := s.logAccess(ctx, callerOf(ctx), ids.MaskID(code), found, endpoint); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range recs {
		if r.Certificate == "" {
			continue
		}
		c, aerr, err := s.issuedCertificate(ctx, r.Certificate, false)
		if err != nil {
			return nil, nil, err
		}
		if aerr == nil && c.ledger.Status == "valid" {
			return &CertificateIssued{CertNo: c.ledger.CertNo, JWS: c.jws, PDFURL: c.pdfURL}, nil, nil
		}
	}
	return nil, errNoSuchCertificate, nil
}

// commitmentsOf is every commitment whose sidecar holds ID number id.
func (s *Server) commitmentsOf(ctx context.Context, id string) ([]string, error) {
	rows, err := s.store.Pool.Query(ctx, `SELECT commitment FROM personal WHERE id_number = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read sidecars: %w", err)
	}
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read sidecars: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	return out, rows.Err()
}

// exitedRecords are the records of an organization (orgCode, "" for none)
// or of the commitments that have case number docNo and have exited
// (purged records exited before), newest first.
func (s *Server) exitedRecords(ctx context.Context, orgCode string, commitments []string, docNo string) ([]*ledger.Record, error) {
	if orgCode == "" && len(commitments) == 0 {
		return nil, nil
	}
	rows, err := s.store.Pool.Query(ctx, `SELECT doc FROM (
			SELECT doc, updated_height, record_id, status, document_no FROM records
			WHERE subject_code = $1 AND subject_kind = 'organization'
			UNION ALL
			SELECT doc, updated_height, record_id, status, document_no FROM records
			WHERE subject_code = ANY($2) AND subject_kind = 'person'
		) r
		WHERE document_no = $3 AND status = ANY($4)
		ORDER BY updated_height DESC, record_id`, orgCode, commitments, docNo, []string{ledger.StatusExited, ledger.StatusPurged})
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	var out []*ledger.Record
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		var rec ledger.Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("decode record: %w", err)
		}
		out = append(out, &rec)
	}
	return out, rows.Err()
}

// decodeStrict reads a JSON body of at most limit bytes into v: unknown
// members, trailing data and anything but one JSON object are 400
// malformed, a larger body 413 too_large.
func decodeStrict(r *http.Request, limit int, v any) *apierr.Error {
	if r.URL.RawQuery != "" {
		return apierr.Malformed("this endpoint takes no query parameters")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return apierr.Malformed("reading body: %v", err)
	}
	if len(body) > limit {
		return apierr.New(413, "too_large", "body exceeds %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apierr.Malformed("body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.Malformed("trailing data after the JSON value")
	}
	return nil
}
