-- Safe retries: the first response to a POST with an Idempotency-Key, per user, for 24 hours.
-- `status` is NULL while the first request is still running (or was cut off by a crash): a
-- retry then gets 409 rather than running the request a second time.
CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER,
    headers       TEXT,
    body          BLOB,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
