// Package cert builds, signs and verifies exit certificates (证明文件,
// DESIGN 7 and 9.6/9.7): a W3C Verifiable Credential 2.0 about one
// committed record.exit, secured as a compact JWS (RFC 7515) with the
// issuer's key, and carrying everything needed to check it offline against
// a trust bundle: the full exit envelope, its RFC 6962 inclusion proof, and
// the header, hash and cosignatures of the block that committed it.
//
// The package is pure: callers read the ledger and pass the pieces in.
// Under the ed25519 suite the JWS is plain Ed25519 over the ASCII signing
// input, so a browser verifies it with WebCrypto alone (docs/certificates.md).
package cert
