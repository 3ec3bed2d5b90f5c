-- Communities (public or private), their members, join requests and invitations; posts made to a
-- community; announcements and their dismissals; notification kinds for community events.
CREATE TABLE communities (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    is_private     BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_post_id BIGINT,
    created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     BIGINT  NOT NULL,
    CONSTRAINT communities_slug_key UNIQUE (slug)
);

CREATE TABLE community_members (
    community_id BIGINT  NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_admin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user_id ON community_members (user_id, community_id);

CREATE TABLE community_requests (
    community_id BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

CREATE TABLE community_invitations (
    community_id BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

-- members_only: the community's id when it is private (privacy is fixed when a community is made),
-- so one column tells every query whether a post is restricted and to whom.
ALTER TABLE posts ADD COLUMN community_id BIGINT REFERENCES communities (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN members_only BIGINT REFERENCES communities (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN is_announcement BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX posts_community_id_id ON posts (community_id, id);
CREATE INDEX posts_announcements ON posts (is_announcement, id);

CREATE TABLE announcement_dismissals (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, post_id)
);

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('reply', 'mention', 'like', 'follow', 'invite', 'join_request', 'join_approved'));
ALTER TABLE notifications ADD COLUMN community_id BIGINT REFERENCES communities (id) ON DELETE CASCADE;
