-- A key's change, marked in the change's own transaction: after a crash, a key left without its
-- response is answered "stored" where its change committed, and released where it did not.
ALTER TABLE idempotency_keys ADD COLUMN committed_room TEXT;
ALTER TABLE idempotency_keys ADD COLUMN committed_version INTEGER;
