-- Sessions ended by a suspension, kept a few days by id so that the person's next request can say
-- why they were signed out (instead of a bare sign-in page). Nothing else is kept of the session.
CREATE TABLE suspended_sessions (
    id       TEXT    PRIMARY KEY,
    user_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ended_at BIGINT  NOT NULL
);
CREATE INDEX suspended_sessions_user ON suspended_sessions (user_id);
