// Package harness starts the real servers creditchain depends on — a throwaway
// PostgreSQL cluster, an embedded NATS JetStream server and an embedded etcd —
// for tests and for `creditchain dev`. Nothing here is a mock: every test that
// needs a database, a stream or a key-value store talks to the real thing.
//
// Environment variables select external servers instead (see docs/harness.md):
// CREDITCHAIN_DATABASE_URL (or DATABASE_URL), CREDITCHAIN_NATS_URL and
// CREDITCHAIN_ETCD_ENDPOINTS.
package harness
