// Package ids validates and masks the two subject identifiers of creditchain:
// the organization's unified social credit code (统一社会信用代码, USCC,
// GB 32100-2015) and the natural person's citizen ID number (公民身份号码,
// GB 11643-1999).
//
// Validation is exact and case-sensitive: a code is checked as written, so a
// lowercase letter or a stray space makes it invalid rather than being
// silently repaired, because the ledger must never hold two spellings of one
// subject. The package is pure: it reads no clock (callers pass now) and does
// no I/O.
package ids
