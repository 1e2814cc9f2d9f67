// Package merklelog is the ledger's RFC 6962 Merkle log: the leaves are the
// canonical bytes of every committed transaction, in order, across all blocks
// (DESIGN 4). It keeps only the log's frontier in memory and hands every new
// perfect-subtree node to the caller to persist, so that inclusion and
// consistency proofs are built from a handful of stored nodes instead of
// reading the whole log.
package merklelog
