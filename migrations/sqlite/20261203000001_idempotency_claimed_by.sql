-- The process serving a key's first request (`Store::process_id`): only it may complete, release
-- or commit under the key, and a key whose process is gone is settled by the next request that
-- brings it (with several processes on PostgreSQL) or at start.
-- '' for keys claimed before processes were named (by an earlier version): none is alive.
ALTER TABLE idempotency_keys ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
