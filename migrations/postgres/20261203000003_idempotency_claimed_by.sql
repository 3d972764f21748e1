-- The process serving a key's first request (`Store::process_id`, also the `application_name`
-- of its connections): only it may complete, release or commit under the key, and a key whose
-- process has no connection left is settled by the next request that brings it, on any process.
-- '' for keys claimed before processes were named (by an earlier version): none is alive.
ALTER TABLE idempotency_keys ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
