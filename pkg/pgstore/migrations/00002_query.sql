-- +goose Up
-- The query service's own tables (DESIGN 9.4): API keys for third parties,
-- their daily usage, and the access log of every look-up of a person. They
-- live in the replica's database because the query service serves from it,
-- but they are not part of the chain: `creditchain ledger verify` ignores
-- them. IF NOT EXISTS because the query service and the replicator may
-- migrate the same database at the same moment.

-- Only the SHA-256 of a key is stored: a leaked table does not leak keys.
CREATE TABLE IF NOT EXISTS api_keys (
    id         text PRIMARY KEY,          -- public part of the key, shown in lists and logs
    name       text NOT NULL,             -- who holds it (a bank, a platform)
    hash       bytea NOT NULL UNIQUE,     -- SHA-256 of the whole bearer token
    per_minute int NOT NULL CHECK (per_minute > 0),
    per_day    bigint NOT NULL CHECK (per_day > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Look-ups per key per day (China Standard Time), counted in PostgreSQL so
-- that the quota holds across restarts and across query processes.
CREATE TABLE IF NOT EXISTS api_key_usage (
    key_id text NOT NULL REFERENCES api_keys (id),
    day    date NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (key_id, day)
);

-- Who looked up which person, and when (PIPL art. 55 accountability). The
-- subject is kept as its masked code and its commitments, never the full ID
-- number: the log must not become a second copy of the personal data.
CREATE TABLE IF NOT EXISTS access_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    who         text NOT NULL,            -- API key id, or "anonymous:<address>"
    address     text NOT NULL,            -- the client's network address
    subject     text NOT NULL,            -- masked code
    commitments text[] NOT NULL,          -- the person's commitments found (may be empty)
    endpoint    text NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_by_time ON access_log (at);

-- Append-only: an audit log that can be edited proves nothing.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS access_log_no_change ON access_log;
CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log;
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- +goose Down
DROP TABLE access_log, api_key_usage, api_keys;
DROP FUNCTION access_log_append_only();
