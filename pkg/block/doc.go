// Package block defines the ledger's blocks, the genesis and the trust
// bundle (DESIGN 4 and 9.6), and verifies a block against its predecessor:
// hash link, time, epoch, Merkle roots, hash and the recorders' quorum of
// cosignatures. Transaction signatures and rules are another layer's job.
//
// Extensions to the contract's block shape: Header.Params (genesis only)
// commits the genesis hash to the chain parameters; Block.Rejected carries
// the proposer's rejection receipts; Block.Checkpoint carries the C2SP
// checkpoint of the block's log head, signed by the recorders.
package block
