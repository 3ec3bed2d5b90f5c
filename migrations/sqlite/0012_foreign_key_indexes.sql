-- Indexes for foreign keys that deleting a post, an idea or a comment follows back. Without them
-- SQLite (and PostgreSQL) read the whole child table for every row deleted: deleting one post read
-- all 100,000 ideas of the benchmark's company to clear `ideas.source_post_id`. Partial where the
-- column is mostly NULL, so that no list query is tempted into them (see 0010).
CREATE INDEX ideas_source_post_id ON ideas (source_post_id) WHERE source_post_id IS NOT NULL;
CREATE INDEX announcement_dismissals_post_id ON announcement_dismissals (post_id);
CREATE INDEX posts_idea_id ON posts (idea_id) WHERE idea_id IS NOT NULL;
CREATE INDEX notifications_idea_id ON notifications (idea_id) WHERE idea_id IS NOT NULL;
CREATE INDEX idea_comments_parent_id ON idea_comments (parent_id) WHERE parent_id IS NOT NULL;
