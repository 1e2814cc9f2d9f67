package main

import (
	"os"
	"runtime/debug"
)

// allInOneGCPercent is the garbage collector's target for the commands that
// run a whole network in one process. Every service's short-lived decoding
// garbage shares one heap there, and at Go's default (100) collection took
// a quarter of the CPU under load; the machine has memory to spare.
// GOGC in the environment still wins.
const allInOneGCPercent = 400

func tuneGC(args []string) {
	if len(args) == 0 || os.Getenv("GOGC") != "" {
		return
	}
	switch args[0] {
	case "dev", "bench":
		debug.SetGCPercent(allInOneGCPercent)
	}
}
