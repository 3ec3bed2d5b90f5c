-- Which posts changed how they are shown, for each process's cache of post rows (posts::cache).
-- Triggers write it, so no statement that changes a post, its author's name or its community's
-- name can forget to. One row per post (the latest change); `mark` is the id of the transaction
-- that made it, which readers compare with their snapshot's oldest running transaction (a change
-- may commit after one with a larger id, so "larger than the last seen" would miss it). A negative
-- post_id says "every post" (a person or community was renamed); it is the transaction's id, so
-- two renames never wait for each other's row. Rows older than ten minutes are pruned.
CREATE TABLE post_changes (
    post_id BIGINT PRIMARY KEY,
    mark BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX post_changes_mark ON post_changes (mark);

CREATE FUNCTION note_post_change(changed BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO post_changes (post_id, mark, changed_at)
    VALUES (changed, pg_current_xact_id()::text::bigint, extract(epoch FROM now())::bigint)
    ON CONFLICT (post_id) DO UPDATE SET mark = excluded.mark, changed_at = excluded.changed_at
$$;

CREATE FUNCTION posts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM note_post_change(OLD.id);
        RETURN OLD;
    END IF;
    PERFORM note_post_change(NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER posts_changed AFTER UPDATE OR DELETE ON posts FOR EACH ROW EXECUTE FUNCTION posts_changed();

CREATE FUNCTION everything_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_post_change(-pg_current_xact_id()::text::bigint);
    RETURN NEW;
END
$$;

CREATE TRIGGER users_renamed AFTER UPDATE OF username, display_name ON users FOR EACH ROW
WHEN (OLD.username IS DISTINCT FROM NEW.username OR OLD.display_name IS DISTINCT FROM NEW.display_name)
EXECUTE FUNCTION everything_changed();

CREATE TRIGGER communities_renamed AFTER UPDATE OF slug, name ON communities FOR EACH ROW
WHEN (OLD.slug IS DISTINCT FROM NEW.slug OR OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION everything_changed();
