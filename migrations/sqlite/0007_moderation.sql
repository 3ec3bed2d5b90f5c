-- Moderation and administration: suspensions and former employees, hidden content, reports and
-- keyword flags, site settings, invitations, and an audit log nobody can rewrite.
ALTER TABLE users ADD COLUMN suspended_until INTEGER;
ALTER TABLE users ADD COLUMN suspension_reason TEXT NOT NULL DEFAULT '';
-- set when the account was deleted; its row stays as "former employee" so content and logs hold
ALTER TABLE users ADD COLUMN deleted_at INTEGER;

-- the text of a moderator's warning, or a report's outcome
ALTER TABLE notifications ADD COLUMN message TEXT NOT NULL DEFAULT '';

ALTER TABLE posts ADD COLUMN hidden_at INTEGER;
ALTER TABLE ideas ADD COLUMN hidden_at INTEGER;
ALTER TABLE idea_comments ADD COLUMN hidden_at INTEGER;

CREATE TABLE keyword_rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern    TEXT    NOT NULL,
    is_regex   BOOLEAN NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

-- A member's report, or (reporter_id NULL) a flag raised by a keyword rule.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    object_type  TEXT    NOT NULL CHECK (object_type IN ('post', 'idea', 'comment')),
    object_id    INTEGER NOT NULL,
    author_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reporter_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    rule_id      INTEGER REFERENCES keyword_rules (id) ON DELETE SET NULL,
    rule_pattern TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    resolved_at  INTEGER,
    resolved_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    outcome      TEXT
);
CREATE UNIQUE INDEX reports_once ON reports (reporter_id, object_type, object_id);
CREATE INDEX reports_object ON reports (object_type, object_id, resolved_at);
CREATE INDEX reports_open ON reports (resolved_at, id);
CREATE INDEX reports_author ON reports (author_id, id);

CREATE TABLE site_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT    NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    used_at    INTEGER
);
CREATE INDEX invitations_created_by ON invitations (created_by, id);

-- The actor's username at the time, so the log reads the same after an account is anonymised.
ALTER TABLE audit_log ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET actor_name = COALESCE((SELECT username FROM users WHERE users.id = audit_log.actor_id), '');
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
