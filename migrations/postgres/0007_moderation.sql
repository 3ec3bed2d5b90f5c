-- Moderation and administration: suspensions and former employees, hidden content, reports and
-- keyword flags, site settings, invitations, and an audit log nobody can rewrite.
ALTER TABLE users ADD COLUMN suspended_until BIGINT;
ALTER TABLE users ADD COLUMN suspension_reason TEXT NOT NULL DEFAULT '';
-- set when the account was deleted; its row stays as "former employee" so content and logs hold
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- the text of a moderator's warning, or a report's outcome
ALTER TABLE notifications ADD COLUMN message TEXT NOT NULL DEFAULT '';

ALTER TABLE posts ADD COLUMN hidden_at BIGINT;
ALTER TABLE ideas ADD COLUMN hidden_at BIGINT;
ALTER TABLE idea_comments ADD COLUMN hidden_at BIGINT;

CREATE TABLE keyword_rules (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pattern    TEXT    NOT NULL,
    is_regex   BOOLEAN NOT NULL,
    created_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL
);

-- A member's report, or (reporter_id NULL) a flag raised by a keyword rule.
CREATE TABLE reports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_type  TEXT    NOT NULL CHECK (object_type IN ('post', 'idea', 'comment')),
    object_id    BIGINT  NOT NULL,
    author_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reporter_id  BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    rule_id      BIGINT  REFERENCES keyword_rules (id) ON DELETE SET NULL,
    rule_pattern TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    resolved_at  BIGINT,
    resolved_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
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
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    created_by BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    used_at    BIGINT 
);
CREATE INDEX invitations_created_by ON invitations (created_by, id);

-- The actor's username at the time, so the log reads the same after an account is anonymised.
ALTER TABLE audit_log ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET actor_name = COALESCE((SELECT username FROM users WHERE users.id = audit_log.actor_id), '');
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
