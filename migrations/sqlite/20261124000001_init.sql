-- Users exist once they have written something or chosen a name; until then a session's user
-- is only its signed cookie, and its name is generated from its id.
CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- A room is a shared board. `version` is +1 on every change and orders everything in it.
CREATE TABLE rooms (
    slug        TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    host_id     TEXT REFERENCES users(id),
    version     INTEGER NOT NULL DEFAULT 0,
    settings    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Sentences of a room; exactly one per room is open (finished_version IS NULL).
CREATE TABLE sentences (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    room_slug         TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,
    finished_version  INTEGER,
    finished_at       TEXT,
    text              TEXT
);
CREATE UNIQUE INDEX sentences_one_open ON sentences(room_slug) WHERE finished_version IS NULL;
CREATE INDEX sentences_by_room ON sentences(room_slug, id);

CREATE TABLE words (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    room_slug      TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,
    sentence_id    INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    text           TEXT NOT NULL,
    ends_sentence  INTEGER NOT NULL,
    author_id      TEXT NOT NULL REFERENCES users(id),
    created_at     TEXT NOT NULL,
    UNIQUE (room_slug, version),
    UNIQUE (sentence_id, position)
);

-- The change log: one row per room version, holding the live event exactly as it is sent, so a
-- stream that reconnects (or fell behind) is refilled from here.
CREATE TABLE changes (
    room_slug   TEXT NOT NULL REFERENCES rooms(slug) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (room_slug, version)
) WITHOUT ROWID;

-- Room `main` always exists; it has no host.
INSERT INTO rooms (slug, title, host_id, version, settings, created_at, updated_at)
VALUES ('main', 'Sala principal', NULL, 0,
        '{"max_word_length":32,"max_sentence_words":40,"no_double_turn":true,"locked":false,"mode":"open","turn_seconds":30}',
        strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
INSERT INTO sentences (room_slug) VALUES ('main');
