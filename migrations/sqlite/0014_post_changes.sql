-- Which posts changed how they are shown, for each process's cache of post rows (posts::cache).
-- Triggers write it, so no statement that changes a post, its author's name or its community's
-- name can forget to. One row per post (the latest change); `mark` orders the changes: here the
-- next number after the largest, since SQLite commits one writer at a time. A negative post_id
-- says "every post" (a person or community was renamed). Rows older than ten minutes are pruned,
-- except the one with the largest mark, which the next number counts from.
CREATE TABLE post_changes (
    post_id INTEGER PRIMARY KEY,
    mark INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX post_changes_mark ON post_changes (mark);

CREATE TRIGGER posts_changed AFTER UPDATE ON posts BEGIN
    INSERT INTO post_changes (post_id, mark, changed_at)
    VALUES (NEW.id, (SELECT coalesce(max(mark), 0) + 1 FROM post_changes), CAST(strftime('%s', 'now') AS INTEGER))
    ON CONFLICT (post_id) DO UPDATE SET mark = excluded.mark, changed_at = excluded.changed_at;
END;

CREATE TRIGGER posts_removed AFTER DELETE ON posts BEGIN
    INSERT INTO post_changes (post_id, mark, changed_at)
    VALUES (OLD.id, (SELECT coalesce(max(mark), 0) + 1 FROM post_changes), CAST(strftime('%s', 'now') AS INTEGER))
    ON CONFLICT (post_id) DO UPDATE SET mark = excluded.mark, changed_at = excluded.changed_at;
END;

CREATE TRIGGER users_renamed AFTER UPDATE OF username, display_name ON users
WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name BEGIN
    INSERT INTO post_changes (post_id, mark, changed_at)
    SELECT -(coalesce(max(mark), 0) + 1), coalesce(max(mark), 0) + 1, CAST(strftime('%s', 'now') AS INTEGER)
    FROM post_changes;
END;

CREATE TRIGGER communities_renamed AFTER UPDATE OF slug, name ON communities
WHEN OLD.slug IS NOT NEW.slug OR OLD.name IS NOT NEW.name BEGIN
    INSERT INTO post_changes (post_id, mark, changed_at)
    SELECT -(coalesce(max(mark), 0) + 1), coalesce(max(mark), 0) + 1, CAST(strftime('%s', 'now') AS INTEGER)
    FROM post_changes;
END;
