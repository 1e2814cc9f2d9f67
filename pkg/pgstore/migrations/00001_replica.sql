-- +goose Up
-- A replica of the ledger in one institution's PostgreSQL (DESIGN 3, 4).
-- Blocks, transactions and Merkle nodes are the chain itself; the other
-- tables are projections rebuilt from the transactions, which
-- `creditchain ledger verify` checks against a replay.

CREATE TABLE chain_meta (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE blocks (
    height       bigint PRIMARY KEY,
    hash         text NOT NULL UNIQUE,
    prev         text NOT NULL,
    time         timestamptz NOT NULL,
    epoch        bigint NOT NULL,
    log_size     bigint NOT NULL,
    header       text NOT NULL,   -- the header JSON exactly as received
    cosignatures jsonb NOT NULL,
    checkpoint   text NOT NULL DEFAULT '',
    stream_seq   bigint
);

CREATE TABLE txs (
    tx_id      text PRIMARY KEY,
    height     bigint NOT NULL REFERENCES blocks (height),
    position   int NOT NULL,
    leaf_index bigint NOT NULL UNIQUE,
    type       text NOT NULL,
    submitter  text NOT NULL,
    envelope   bytea NOT NULL   -- JCS bytes: the Merkle leaf
);
CREATE INDEX txs_by_block ON txs (height, position);

-- Every perfect subtree of the RFC 6962 log, so that proofs read O(log n) rows.
CREATE TABLE log_nodes (
    level smallint NOT NULL,
    idx   bigint NOT NULL,
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE head (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    height    bigint NOT NULL,
    hash      text NOT NULL,
    log_size  bigint NOT NULL,
    frontier  bytea[] NOT NULL,
    epoch     bigint NOT NULL
);

CREATE TABLE epochs (
    epoch       bigint PRIMARY KEY,
    from_height bigint NOT NULL,
    members     jsonb NOT NULL
);

CREATE TABLE records (
    record_id      text PRIMARY KEY,
    subject_code   text NOT NULL,
    subject_kind   text NOT NULL,
    category       text NOT NULL,
    authority      text NOT NULL,
    document_no    text NOT NULL,
    status         text NOT NULL,
    doc            jsonb NOT NULL,
    updated_height bigint NOT NULL
);
CREATE INDEX records_by_subject ON records (subject_code);
CREATE INDEX records_by_status ON records (status);

CREATE TABLE reports (id text PRIMARY KEY, doc jsonb NOT NULL);
CREATE TABLE repair_applications (id text PRIMARY KEY, doc jsonb NOT NULL);
CREATE TABLE objections (id text PRIMARY KEY, doc jsonb NOT NULL);
CREATE TABLE certificates (cert_no text PRIMARY KEY, record_id text NOT NULL, status text NOT NULL, doc jsonb NOT NULL);
CREATE TABLE policies (id text PRIMARY KEY, doc jsonb NOT NULL);

-- Receipts of every transaction a block decided: committed or rejected.
CREATE TABLE receipts (
    tx_id  text PRIMARY KEY,
    status text NOT NULL,
    height bigint NOT NULL,
    code   text NOT NULL DEFAULT '',
    reason text NOT NULL DEFAULT ''
);

-- Person sidecars: off-chain, deleted by record.purge (PIPL art. 47).
CREATE TABLE personal (
    commitment text PRIMARY KEY,
    name       text NOT NULL,
    id_number  text NOT NULL,
    salt       text NOT NULL
);
CREATE INDEX personal_by_id ON personal (id_number);

-- A recorder's votes: at most one block per height per view.
CREATE TABLE votes (
    height bigint NOT NULL,
    view   bigint NOT NULL,
    hash   text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (height, view)
);

-- Refused blocks and other evidence of misbehaviour.
CREATE TABLE alerts (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    kind   text NOT NULL,
    height bigint,
    detail text NOT NULL,
    data   bytea
);

-- +goose Down
DROP TABLE alerts, votes, personal, receipts, policies, certificates, objections,
    repair_applications, reports, records, epochs, head, log_nodes, txs, blocks, chain_meta;
