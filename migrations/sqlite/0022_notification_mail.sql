-- Notification mails. mailed_at: when the mailer dealt with a notification (mailed it at once, or
-- left it for a digest or for nothing); NULL while it waits. Notifications from before count as
-- dealt with, so that turning mail on sends nothing about the past.
ALTER TABLE notifications ADD COLUMN mailed_at INTEGER;
UPDATE notifications SET mailed_at = created_at;
CREATE INDEX notifications_unmailed ON notifications (created_at, id) WHERE mailed_at IS NULL;

-- A person's choice, per topic, of how notification mails come, where it differs from the default.
CREATE TABLE mail_settings (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic   TEXT    NOT NULL,
    cadence TEXT    NOT NULL CHECK (cadence IN ('now', 'daily', 'weekly', 'never')),
    PRIMARY KEY (user_id, topic)
);

-- When the person's next digest is due, and when the last one was made (unix seconds).
ALTER TABLE users ADD COLUMN digest_due_at INTEGER;
ALTER TABLE users ADD COLUMN digest_sent_at INTEGER;
-- When the person last opened their notifications page: what came before, they have seen.
ALTER TABLE users ADD COLUMN notifications_seen_at INTEGER;
CREATE INDEX users_digest_due_at ON users (digest_due_at);
