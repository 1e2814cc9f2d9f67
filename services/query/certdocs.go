package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/creditchain/creditchain/pkg/apierr"
	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/ledger"
	"github.com/jackc/pgx/v5"
)

// forwardedHeader marks a request one query service makes to the issuer's,
// so that an issuer URL that points back (a configuration mistake) cannot
// make two services ask each other forever.
const forwardedHeader = "Creditchain-Forwarded"

// issued is a certificate on the ledger with the document that proves it.
type issued struct {
	ledger *ledger.Certificate
	jws    string
	// pdf is set only when this replica holds the document (the issuer's).
	pdf []byte
	// pdfURL is where the PDF is served: this service, or the issuer's
	// query service when the document came from there.
	pdfURL string
}

// issuedCertificate finds certificate no on the ledger and its JWS: from
// cert_documents when this replica is the issuer's, else from the issuer's
// query service (when configured and the request was not itself
// forwarded). Either way the JWS is served only if its hash is the
// cert_hash that certificate.issue anchored, so neither a changed row nor
// the issuer's service can substitute another document.
func (s *Server) issuedCertificate(ctx context.Context, no string, forwarded bool) (*issued, *apierr.Error, error) {
	if !cert.ValidCertNo(no) {
		return nil, apierr.New(404, "not_found", "no certificate %q: certificate numbers look like CC-2026-69567B62EE1C0DE9", no), nil
	}
	c, err := s.store.Certificate(ctx, no)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, apierr.New(404, "not_found", "no certificate %s on the ledger", no), nil
	}
	out := &issued{ledger: c, pdfURL: "/v1/certificates/" + url.PathEscape(no) + ".pdf"}
	var pdf []byte
	err = s.store.Pool.QueryRow(ctx, `SELECT jws, pdf FROM cert_documents WHERE cert_no = $1`, no).Scan(&out.jws, &pdf)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, nil, fmt.Errorf("read certificate document %s: %w", no, err)
	default:
		if got := cert.Hash(s.store.Suite, out.jws); got != c.CertHash {
			return nil, nil, fmt.Errorf("certificate document %s hashes to %s, the ledger anchors %s", no, got, c.CertHash)
		}
		out.pdf = pdf
		return out, nil, nil
	}
	base := ""
	if s.issuerURL != nil {
		base = strings.TrimRight(s.issuerURL(), "/")
	}
	if base == "" || forwarded {
		return nil, apierr.New(404, "not_found",
			"certificate %s is %s on the ledger, but this replica holds no copy of its document: ask the issuer's portal", no, c.Status), nil
	}
	jws, found, err := s.fetchIssuerJWS(ctx, base, no)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, apierr.New(404, "not_found", "certificate %s is %s on the ledger, but the issuer serves no document of it", no, c.Status), nil
	}
	if got := cert.Hash(s.store.Suite, jws); got != c.CertHash {
		return nil, nil, fmt.Errorf("the issuer served certificate %s hashing to %s, the ledger anchors %s", no, got, c.CertHash)
	}
	out.jws, out.pdfURL = jws, base+out.pdfURL
	return out, nil, nil
}

// maxIssuerAnswer bounds what is read from the issuer: a JWS is a few KiB.
const maxIssuerAnswer = 1 << 20

// fetchIssuerJWS asks the issuer's query service for certificate no's
// JWS. found is false when the issuer answers 404.
func (s *Server) fetchIssuerJWS(ctx context.Context, base, no string) (jws string, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/certificates/"+url.PathEscape(no), nil)
	if err != nil {
		return "", false, fmt.Errorf("issuer URL %q: %w", base, err)
	}
	req.Header.Set(forwardedHeader, "1")
	resp, err := s.http.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("ask the issuer for certificate %s: %w", no, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerAnswer))
	if err != nil {
		return "", false, fmt.Errorf("ask the issuer for certificate %s: %w", no, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", false, nil
	default:
		return "", false, fmt.Errorf("ask the issuer for certificate %s: %s", no, resp.Status)
	}
	var doc CertificateAnswer
	if err := json.Unmarshal(body, &doc); err != nil || doc.CertNo != no || doc.JWS == "" {
		return "", false, fmt.Errorf("the issuer's answer for certificate %s is not a certificate document", no)
	}
	return doc.JWS, true, nil
}
