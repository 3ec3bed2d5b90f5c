-- Idea campaigns: campaigns, ideas, votes, comments, stage history, merges, and the audit log.
CREATE TABLE campaigns (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title           TEXT    NOT NULL,
    question        TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    community_id    BIGINT  REFERENCES communities (id) ON DELETE CASCADE,
    -- draft (managers only), published (open between opens_at and closes_at), archived
    status          TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    opens_at        BIGINT  NOT NULL,
    closes_at       BIGINT  NOT NULL,
    vote_budget     BIGINT,
    hide_counts     BOOLEAN NOT NULL DEFAULT FALSE,
    allow_anonymous BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX campaigns_closes_at ON campaigns (status, closes_at);

CREATE TABLE ideas (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id          BIGINT  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    author_id            BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    anonymous            BOOLEAN NOT NULL DEFAULT FALSE,
    title                TEXT    NOT NULL,
    body                 TEXT    NOT NULL,
    stage                TEXT    NOT NULL DEFAULT 'new'
                         CHECK (stage IN ('new', 'under_review', 'selected', 'in_progress', 'implemented', 'declined', 'merged')),
    official_response    TEXT,
    response_by          BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    response_at          BIGINT,
    merged_into_id       BIGINT  REFERENCES ideas (id) ON DELETE SET NULL,
    vote_count           BIGINT  NOT NULL DEFAULT 0,
    comment_count        BIGINT  NOT NULL DEFAULT 0,
    source_post_id       BIGINT  REFERENCES posts (id) ON DELETE SET NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL
);
CREATE INDEX ideas_campaign_id ON ideas (campaign_id, id);
CREATE INDEX ideas_campaign_votes ON ideas (campaign_id, vote_count, id);
CREATE INDEX ideas_campaign_comments ON ideas (campaign_id, comment_count, id);
CREATE INDEX ideas_author_id ON ideas (author_id);

CREATE TABLE idea_votes (
    idea_id     BIGINT  NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id BIGINT  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (idea_id, user_id)
);
CREATE INDEX idea_votes_user ON idea_votes (campaign_id, user_id);
CREATE INDEX idea_votes_recent ON idea_votes (idea_id, created_at);

CREATE TABLE idea_comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id    BIGINT  NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    parent_id  BIGINT  REFERENCES idea_comments (id) ON DELETE CASCADE,
    author_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX idea_comments_idea_id ON idea_comments (idea_id, id);

CREATE TABLE stage_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id    BIGINT  NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    actor_id   BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    from_stage TEXT    NOT NULL,
    to_stage   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX stage_changes_idea_id ON stage_changes (idea_id, id);

CREATE TABLE merges (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id  BIGINT  NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    target_id  BIGINT  NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    from_stage TEXT    NOT NULL,
    actor_id   BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    undone_at  BIGINT
);
CREATE INDEX merges_source_id ON merges (source_id);
CREATE INDEX merges_target_id ON merges (target_id);

-- The votes a merge added to its target (voters of the duplicate who had not voted for the target),
-- so that undoing it removes exactly those.
CREATE TABLE merge_moved_votes (
    merge_id BIGINT  NOT NULL REFERENCES merges (id) ON DELETE CASCADE,
    user_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (merge_id, user_id)
);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   BIGINT  NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (id);

ALTER TABLE posts ADD COLUMN idea_id BIGINT  REFERENCES ideas (id) ON DELETE SET NULL;

-- Notifications about ideas. The kinds are checked by the application (its `Kind` enum).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD COLUMN idea_id BIGINT REFERENCES ideas (id) ON DELETE CASCADE;
