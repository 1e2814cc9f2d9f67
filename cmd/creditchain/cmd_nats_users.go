package main

import "github.com/creditchain/creditchain/cmd/creditchain/natsusers"

// The command lives in its own package so that its test runs exactly what
// the sidecar beside each NATS server of the Helm chart runs.
func init() { register("nats-users", natsusers.Summary, natsusers.Run) }
