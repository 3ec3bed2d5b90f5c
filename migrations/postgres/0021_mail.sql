-- Mail: an outbox written in the transaction of what caused each mail and emptied by a background
-- worker (src/mail); links that confirm an e-mail address; invitations sent to an address.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,
    recipient_id    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    to_address      TEXT    NOT NULL,
    to_name         TEXT    NOT NULL DEFAULT '',
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    -- the one-click unsubscribe address of a notification mail (RFC 8058)
    unsubscribe_url TEXT,
    -- the Message-ID header, fixed when queued: a mail sent again carries the same one
    message_id      TEXT    NOT NULL,
    -- waiting -> claimed (by a worker, until lease_until) -> sending -> sent | failed; a mail whose
    -- worker vanished while sending is `uncertain` (possibly sent) and waits for an admin
    state           TEXT    NOT NULL DEFAULT 'waiting'
                    CHECK (state IN ('waiting', 'claimed', 'sending', 'sent', 'failed', 'uncertain')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    lease_until     BIGINT,
    claimed_by      TEXT,
    -- the mail server's last answer when it refused or failed
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE state = 'waiting';
CREATE INDEX mail_outbox_leased ON mail_outbox (lease_until) WHERE state IN ('claimed', 'sending');
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient_id, kind, created_at);

-- When the account's address was last confirmed by a link sent to it (NULL: never). An account
-- that must confirm before it is usable (sign-up under an e-mail domain policy) has
-- confirm_required until it does.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN confirm_required BOOLEAN NOT NULL DEFAULT FALSE;

-- One-time links that confirm an address: the account's own (`confirm`) or a new one it asked to
-- change to (`change`, with the new address). Only a hash of each token is stored.
CREATE TABLE email_links (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL UNIQUE,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('confirm', 'change')),
    email      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_links_user ON email_links (user_id);

-- The address an invitation was mailed to, if it was.
ALTER TABLE invitations ADD COLUMN email TEXT NOT NULL DEFAULT '';
