-- Replies, edits, deletions that keep threads, likes, followed topics, notifications, and the home
-- timeline written at post time (fan-out), so reading home is one index range whatever one follows.
ALTER TABLE posts ADD COLUMN parent_id BIGINT REFERENCES posts (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN root_id BIGINT REFERENCES posts (id) ON DELETE CASCADE;
ALTER TABLE posts ADD COLUMN edited_at BIGINT;
ALTER TABLE posts ADD COLUMN deleted_at BIGINT;
ALTER TABLE posts ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN like_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX posts_root_id_id ON posts (root_id, id);
CREATE INDEX posts_parent_id ON posts (parent_id);

CREATE TABLE timeline (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX timeline_post_id ON timeline (post_id);
INSERT INTO timeline (user_id, post_id)
    SELECT author_id, id FROM posts
    UNION
    SELECT f.follower_id, p.id FROM follows f JOIN posts p ON p.author_id = f.followee_id;

CREATE TABLE likes (
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user_id ON likes (user_id, post_id);

CREATE TABLE topic_follows (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic)
);
CREATE INDEX topic_follows_topic ON topic_follows (topic, user_id);

CREATE TABLE notifications (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT   NOT NULL CHECK (kind IN ('reply', 'mention', 'like', 'follow')),
    actor_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id      BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    read_at      BIGINT
);
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_unread ON notifications (recipient_id, read_at);
CREATE INDEX notifications_post_id ON notifications (post_id);
