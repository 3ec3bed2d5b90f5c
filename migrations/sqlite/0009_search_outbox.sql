-- The search outbox: when Meilisearch is configured (the `search.outbox` setting is on), every change
-- to a post, idea or person writes a row here in the same transaction, and a background worker
-- delivers them; a Meilisearch outage delays indexing but loses nothing.
CREATE TABLE search_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN ('post', 'idea', 'person')),
    object_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TRIGGER posts_outbox_insert AFTER INSERT ON posts
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('post', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER posts_outbox_update AFTER UPDATE OF body, hidden_at, deleted_at ON posts
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('post', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER posts_outbox_delete AFTER DELETE ON posts
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('post', old.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER ideas_outbox_insert AFTER INSERT ON ideas
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('idea', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER ideas_outbox_update AFTER UPDATE OF title, body, hidden_at, anonymous, campaign_id ON ideas
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('idea', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER ideas_outbox_delete AFTER DELETE ON ideas
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('idea', old.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER users_outbox_insert AFTER INSERT ON users
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('person', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER users_outbox_update AFTER UPDATE OF username, display_name, job_title, department, location, deleted_at ON users
WHEN EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') BEGIN
    INSERT INTO search_outbox (kind, object_id, created_at) VALUES ('person', new.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
