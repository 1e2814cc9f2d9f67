// Package importer is the logic of `creditchain import` and `creditchain
// export`: it reads record lists as institutions keep them (CSV in UTF-8 or
// GBK, Excel .xlsx, Chinese or English column names), turns each row into a
// record.create, validates every row before anything is sent, submits the
// valid rows with deterministic nonces and a write-ahead state file so that
// an interrupted import can be rerun without submitting any row twice, and
// exports a replica's records in the same columns so that an export
// re-imports. docs/import-export.md is the user's side of this package.
package importer
