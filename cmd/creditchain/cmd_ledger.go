package main

import "github.com/creditchain/creditchain/cmd/creditchain/ledgercmd"

// The command lives in its own package so that the end-to-end tests can run
// exactly what the CLI runs.
func init() { register("ledger", ledgercmd.Summary, ledgercmd.Run) }
