-- Homes still to be written for a post whose audience is larger than one chunk (a post by someone
-- most of the company follows, in a community of thousands, on a popular topic). The post's own
-- transaction writes the first chunk and queues the rest here; a background worker writes the next
-- chunk of readers (ordered by user id, from `next_user_id`) per short transaction, so one post never
-- holds the database's writer for seconds. Rows are removed when their audience is reached.
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id      INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    source       TEXT    NOT NULL CHECK (source IN ('followers', 'topic', 'members')),
    key_id       INTEGER,
    topic        TEXT,
    next_user_id INTEGER NOT NULL
);
CREATE INDEX deliveries_post_id ON deliveries (post_id);
