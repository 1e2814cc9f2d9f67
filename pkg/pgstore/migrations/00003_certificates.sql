-- +goose Up
-- The signer's certificate documents (DESIGN 7): each exit's signed
-- credential (compact JWS) and its PDF, kept in the issuing institution's
-- replica database so that the query service can serve them. They are not
-- part of the chain: the ledger anchors only each JWS's hash with
-- certificate.issue, and `creditchain ledger verify` ignores these tables.
-- IF NOT EXISTS because several services may migrate one database at once.

-- One row per exit, written before certificate.issue is submitted, so that
-- a signer that restarts reuses the stored certificate instead of signing
-- a second one (record_id and exit_tx are unique).
CREATE TABLE IF NOT EXISTS cert_documents (
    cert_no         text PRIMARY KEY,
    record_id       text NOT NULL UNIQUE,
    exit_tx         text NOT NULL UNIQUE,
    jws             text NOT NULL,
    cert_hash       text NOT NULL,      -- hex suite hash of the JWS: certificate.issue's cert_hash
    pdf             bytea,              -- NULL when no CJK font was available to render it
    issue_tx        text,               -- the latest certificate.issue submitted for it
    submitted_at    timestamptz,        -- when issue_tx was accepted by intake
    anchored_height bigint,             -- where certificate.issue committed; NULL until then
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cert_documents_unanchored ON cert_documents (created_at) WHERE anchored_height IS NULL;

-- How far the signer has looked for exits: every record.exit at or below
-- this height has its row above.
CREATE TABLE IF NOT EXISTS cert_signer_state (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    height    bigint NOT NULL
);

-- +goose Down
DROP TABLE cert_signer_state, cert_documents;
