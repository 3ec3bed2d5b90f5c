-- Comments on ideas read like posts: the people a comment mentions (known usernames when it was
-- written, so later accounts with those names are not linked), and when it or an idea was edited.
ALTER TABLE idea_comments ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE idea_comments ADD COLUMN edited_at INTEGER;
ALTER TABLE ideas ADD COLUMN edited_at INTEGER;
