-- A post or idea in Meilisearch carries its author's username (for the author filter): when a
-- username changes (an account is anonymised), each of that person's posts and named ideas is
-- queued again, so that the old name does not stay findable there.
CREATE FUNCTION search_outbox_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') THEN
        INSERT INTO search_outbox (kind, object_id, created_at)
        SELECT 'post', id, CAST(extract(epoch FROM now()) AS BIGINT) FROM posts WHERE author_id = NEW.id;
        INSERT INTO search_outbox (kind, object_id, created_at)
        SELECT 'idea', id, CAST(extract(epoch FROM now()) AS BIGINT) FROM ideas
        WHERE author_id = NEW.id AND NOT anonymous;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_outbox_rename AFTER UPDATE OF username ON users
    FOR EACH ROW WHEN (OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION search_outbox_rename();
