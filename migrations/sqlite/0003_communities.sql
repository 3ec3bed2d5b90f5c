-- Communities (public or private), their members, join requests and invitations; posts made to a
-- community; announcements and their dismissals; notification kinds for community events.
CREATE TABLE communities (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slug           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    is_private     BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_post_id INTEGER,
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    CONSTRAINT communities_slug_key UNIQUE (slug)
);

CREATE TABLE community_members (
    community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_admin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user_id ON community_members (user_id, community_id);

CREATE TABLE community_requests (
    community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

CREATE TABLE community_invitations (
    community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (community_id, user_id)
);

-- members_only: the community's id when it is private (privacy is fixed when a community is made),
-- so one column tells every query whether a post is restricted and to whom.
ALTER TABLE posts ADD COLUMN community_id INTEGER REFERENCES communities (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN members_only INTEGER REFERENCES communities (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN is_announcement BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX posts_community_id_id ON posts (community_id, id);
CREATE INDEX posts_announcements ON posts (is_announcement, id);

CREATE TABLE announcement_dismissals (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, post_id)
);

-- SQLite cannot change a CHECK constraint in place: rebuild the table with the new kinds.
CREATE TABLE notifications_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('reply', 'mention', 'like', 'follow', 'invite', 'join_request', 'join_approved')),
    actor_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id      INTEGER REFERENCES posts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER,
    community_id INTEGER REFERENCES communities (id) ON DELETE CASCADE
);
INSERT INTO notifications_new (id, recipient_id, kind, actor_id, post_id, created_at, read_at)
    SELECT id, recipient_id, kind, actor_id, post_id, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_unread ON notifications (recipient_id, read_at);
CREATE INDEX notifications_post_id ON notifications (post_id);
