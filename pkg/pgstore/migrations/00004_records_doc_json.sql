-- +goose Up
-- A record's document is written by every replica for every record a block
-- touches and read back whole (by the exit contracts, the query service and
-- audits), never searched inside: json keeps the text as written, where
-- jsonb paid for a binary parse on every write and a re-serialization on
-- every read (creditchain bench, docs/performance.md).
ALTER TABLE records ALTER COLUMN doc TYPE json USING doc::json;

-- +goose Down
ALTER TABLE records ALTER COLUMN doc TYPE jsonb USING doc::jsonb;
