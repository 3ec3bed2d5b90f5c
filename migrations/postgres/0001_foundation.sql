-- Accounts, posts, topics, follows and sessions. Timestamps are Unix seconds.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL,
    email         TEXT   NOT NULL,
    display_name  TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    role          TEXT   NOT NULL DEFAULT 'member'
                  CHECK (role IN ('member', 'manager', 'moderator', 'admin')),
    job_title     TEXT   NOT NULL DEFAULT '',
    department    TEXT   NOT NULL DEFAULT '',
    location      TEXT   NOT NULL DEFAULT '',
    bio           TEXT   NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE posts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT   NOT NULL,
    -- usernames that existed when the post was written, space separated: only these become links
    mentions   TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX posts_author_id_id ON posts (author_id, id);

CREATE TABLE post_topics (
    topic   TEXT   NOT NULL,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, post_id)
);
CREATE INDEX post_topics_post_id ON post_topics (post_id);

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee_id ON follows (followee_id, follower_id);

CREATE TABLE sessions (
    id         TEXT   PRIMARY KEY,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);
