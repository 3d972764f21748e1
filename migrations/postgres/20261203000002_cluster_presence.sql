-- Who has each room open, in each frase process sharing this database: the online count and the
-- players of a `turns` round are the room's across processes (src/server/live/presence.rs).
-- PostgreSQL only: a SQLite database is served by one process, whose memory knows it all.

-- Each serving process, and when it last said it is alive. A process not heard from for 15 s
-- no longer counts; one gone for a minute is deleted, its presence with it.
CREATE TABLE cluster_processes (
    id TEXT PRIMARY KEY,
    heard_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The streams a process has open on a room, per user ('' for streams without one).
CREATE TABLE cluster_presence (
    process TEXT NOT NULL REFERENCES cluster_processes (id) ON DELETE CASCADE,
    room TEXT NOT NULL,
    user_id TEXT NOT NULL,
    streams INTEGER NOT NULL CHECK (streams > 0),
    PRIMARY KEY (process, room, user_id)
);

CREATE INDEX cluster_presence_room ON cluster_presence (room);
