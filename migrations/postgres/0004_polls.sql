-- Polls: a post may carry 2-6 options and a closing time; each person has one vote per poll.
ALTER TABLE posts ADD COLUMN poll_closes_at BIGINT;

CREATE TABLE poll_options (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id  BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    label    TEXT   NOT NULL
);
CREATE INDEX poll_options_post_id ON poll_options (post_id, position);

CREATE TABLE poll_votes (
    post_id    BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    option_id  BIGINT NOT NULL REFERENCES poll_options (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX poll_votes_option_id ON poll_votes (option_id);
