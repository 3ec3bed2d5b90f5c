-- One-time links that set an account's password: "welcome" for accounts an admin made, "reset" for
-- a forgotten password. Only a hash of each token is stored. An invitation link may carry a note
-- saying whom it was meant for.
CREATE TABLE password_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL UNIQUE,
    purpose    TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_links_user ON password_links (user_id);
ALTER TABLE invitations ADD COLUMN note TEXT NOT NULL DEFAULT '';
