-- A post or idea in Meilisearch carries its author's username (for the author filter): when a
-- username changes (an account is anonymised), each of that person's posts and named ideas is
-- queued again, so that the old name does not stay findable there.
CREATE TRIGGER users_outbox_rename AFTER UPDATE OF username ON users
WHEN old.username <> new.username
 AND EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at)
    SELECT 'post', id, CAST(strftime('%s', 'now') AS INTEGER) FROM posts WHERE author_id = new.id;
    INSERT INTO search_outbox (kind, object_id, created_at)
    SELECT 'idea', id, CAST(strftime('%s', 'now') AS INTEGER) FROM ideas WHERE author_id = new.id AND NOT anonymous;
END;
