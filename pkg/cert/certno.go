package cert

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// chinaTime is China Standard Time (UTC+8, no daylight saving), the
// calendar a certificate's year is counted in: the documents are Chinese.
var chinaTime = time.FixedZone("CST", 8*3600)

// certNoHexLen is how many hex characters of the exit tx id a certificate
// number keeps: 64 bits, so that millions of exits do not collide (the
// ledger would refuse the second certificate.issue of a number).
const certNoHexLen = 16

var certNoPattern = regexp.MustCompile(`^CC-[0-9]{4}-[0-9A-F]{16}$`)

// CertNo is the certificate number of an exit: "CC-<year>-<first 16 hex of
// the exit tx id, upper-case>", the year being the exit block's in China
// Standard Time. It depends on the exit alone, so every signer and every
// restart derives the same number, and the ledger's refusal of a duplicate
// certificate.issue makes one exit have at most one certificate.
func CertNo(exitTxID string, exitTime time.Time) (string, error) {
	if len(exitTxID) < certNoHexLen {
		return "", fmt.Errorf("cert: exit tx id %q is too short", exitTxID)
	}
	head := exitTxID[:certNoHexLen]
	if strings.Trim(head, "0123456789abcdef") != "" {
		return "", fmt.Errorf("cert: exit tx id %q is not lowercase hex", exitTxID)
	}
	no := fmt.Sprintf("CC-%04d-%s", exitTime.In(chinaTime).Year(), strings.ToUpper(head))
	if !certNoPattern.MatchString(no) {
		return "", fmt.Errorf("cert: exit year %d does not fit a certificate number", exitTime.In(chinaTime).Year())
	}
	return no, nil
}

// ValidCertNo reports whether s has the shape of a certificate number.
func ValidCertNo(s string) bool { return certNoPattern.MatchString(s) }

// URN is the credential id of certificate certNo.
func URN(certNo string) string { return "urn:creditchain:cert:" + certNo }

// IssuerURN is the credential issuer of institution id.
func IssuerURN(id string) string { return "urn:creditchain:member:" + id }
