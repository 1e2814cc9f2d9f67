// Package policy implements exit policies (退出策略): CEL expressions that
// decide when a record of dishonesty leaves the list (eligible) and when it
// next could (due), evaluated identically on every node over the committed
// record and the block time.
//
// The language policy authors write is specified in docs/policies.md; this
// package is its reference implementation: strict decoding (Decode),
// type and cost checking (Compile), evaluation (Compiled.Evaluate) and the
// genesis policies (Builtins). It does no I/O and never reads the clock.
package policy
