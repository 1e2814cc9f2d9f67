// Package proto holds the wire messages between services (proposals and
// votes between consensus-ledger instances). The generated Go code is
// committed; `make proto` regenerates it with pinned tools.
package proto
