-- Idea campaigns: campaigns, ideas, votes, comments, stage history, merges, and the audit log.
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT    NOT NULL,
    question        TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    community_id    INTEGER REFERENCES communities (id) ON DELETE CASCADE,
    -- draft (managers only), published (open between opens_at and closes_at), archived
    status          TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    opens_at        INTEGER NOT NULL,
    closes_at       INTEGER NOT NULL,
    vote_budget     INTEGER,
    hide_counts     BOOLEAN NOT NULL DEFAULT FALSE,
    allow_anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX campaigns_closes_at ON campaigns (status, closes_at);

CREATE TABLE ideas (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id          INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    author_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    anonymous            BOOLEAN NOT NULL DEFAULT FALSE,
    title                TEXT    NOT NULL,
    body                 TEXT    NOT NULL,
    stage                TEXT    NOT NULL DEFAULT 'new'
                         CHECK (stage IN ('new', 'under_review', 'selected', 'in_progress', 'implemented', 'declined', 'merged')),
    official_response    TEXT,
    response_by          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    response_at          INTEGER,
    merged_into_id       INTEGER REFERENCES ideas (id) ON DELETE SET NULL,
    vote_count           INTEGER NOT NULL DEFAULT 0,
    comment_count        INTEGER NOT NULL DEFAULT 0,
    source_post_id       INTEGER REFERENCES posts (id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX ideas_campaign_id ON ideas (campaign_id, id);
CREATE INDEX ideas_campaign_votes ON ideas (campaign_id, vote_count, id);
CREATE INDEX ideas_campaign_comments ON ideas (campaign_id, comment_count, id);
CREATE INDEX ideas_author_id ON ideas (author_id);

CREATE TABLE idea_votes (
    idea_id     INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (idea_id, user_id)
);
CREATE INDEX idea_votes_user ON idea_votes (campaign_id, user_id);
CREATE INDEX idea_votes_recent ON idea_votes (idea_id, created_at);

CREATE TABLE idea_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id    INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES idea_comments (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX idea_comments_idea_id ON idea_comments (idea_id, id);

CREATE TABLE stage_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id    INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    from_stage TEXT    NOT NULL,
    to_stage   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX stage_changes_idea_id ON stage_changes (idea_id, id);

CREATE TABLE merges (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    from_stage TEXT    NOT NULL,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    undone_at  INTEGER
);
CREATE INDEX merges_source_id ON merges (source_id);
CREATE INDEX merges_target_id ON merges (target_id);

-- The votes a merge added to its target (voters of the duplicate who had not voted for the target),
-- so that undoing it removes exactly those.
CREATE TABLE merge_moved_votes (
    merge_id INTEGER NOT NULL REFERENCES merges (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (merge_id, user_id)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (id);

ALTER TABLE posts ADD COLUMN idea_id INTEGER REFERENCES ideas (id) ON DELETE SET NULL;

-- Notifications about ideas. The kinds are checked by the application (its `Kind` enum), so this is
-- the last rebuild of the table that adding a kind needs.
CREATE TABLE notifications_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    actor_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id      INTEGER REFERENCES posts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER,
    community_id INTEGER REFERENCES communities (id) ON DELETE CASCADE,
    idea_id      INTEGER REFERENCES ideas (id) ON DELETE CASCADE
);
INSERT INTO notifications_new (id, recipient_id, kind, actor_id, post_id, created_at, read_at, community_id)
    SELECT id, recipient_id, kind, actor_id, post_id, created_at, read_at, community_id FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_unread ON notifications (recipient_id, read_at);
CREATE INDEX notifications_post_id ON notifications (post_id);
