-- The round being played in `turns` mode (JSON: players in order, whose turn, its deadline),
-- NULL when none is.
ALTER TABLE rooms ADD COLUMN round TEXT;
