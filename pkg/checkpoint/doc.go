// Package checkpoint publishes the log head as a C2SP tlog-checkpoint: a
// signed note (golang.org/x/mod/sumdb/note) whose text is
// "<origin>\n<size>\n<base64 root>\n", with origin = chain id and one
// signature per recorder, named by its institution id (USCC).
//
// Key encodings. Ed25519 keys use the signed-note standard signature type
// 0x01, so note.NewVerifier, note.Open and every other standard tool verify
// our checkpoints. SM2 has no assigned type byte; C2SP signed-note reserves
// 0xff for such types, followed by an identifier, so an SM2 key is encoded
// as 0xff || "creditchain/sm2" || 65-byte uncompressed point, and its
// signatures are the suite's raw 64-byte r||s SM2 signatures (SM3, default
// user id) over the note text. The key id is the one C2SP recommends:
// SHA-256(name || "\n" || encoded key)[:4].
package checkpoint
