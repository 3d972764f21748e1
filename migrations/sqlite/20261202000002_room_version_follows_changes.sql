-- A room's version is the version of its last logged change. The database keeps it so: logging a
-- change moves its room in the same statement, one round trip fewer on the writer per change.
CREATE TRIGGER changes_move_room AFTER INSERT ON changes
BEGIN
    UPDATE rooms SET version = NEW.version, updated_at = NEW.created_at
    WHERE slug = NEW.room_slug;
END;
