package main

import "github.com/creditchain/creditchain/cmd/creditchain/membercmd"

// The command lives in its own package so that the end-to-end tests can run
// exactly what the CLI runs.
func init() { register("member", membercmd.Summary, membercmd.Run) }
