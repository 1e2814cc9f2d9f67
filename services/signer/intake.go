package signer

import (
	"context"
	"fmt"
	"strings"

	"github.com/creditchain/creditchain/pkg/cert"
	"github.com/creditchain/creditchain/pkg/intakeclient"
	"github.com/creditchain/creditchain/pkg/txn"
)

// Intake signs transactions with the issuer's key and submits them to intake.
type Intake = intakeclient.Client

// IntakeError is intake's refusal of a submission.
type IntakeError = intakeclient.Error

// TxStatus is intake's answer about one transaction.
type TxStatus = intakeclient.TxStatus

// Revoke submits certificate.revoke for certNo with the issuer's key and
// returns its tx id. The ledger refuses it (a rejected receipt) for an
// unknown or already revoked certificate; only an issuer may send it.
func Revoke(ctx context.Context, c *Intake, certNo, reason string) (string, error) {
	if !cert.ValidCertNo(certNo) {
		return "", fmt.Errorf("%q is not a certificate number (CC-<year>-<16 hex>)", certNo)
	}
	if strings.TrimSpace(reason) == "" {
		return "", fmt.Errorf("a revocation needs a reason")
	}
	return c.Submit(ctx, txn.TypeCertificateRevoke, txn.CertificateRevoke{CertNo: certNo, Reason: reason})
}
