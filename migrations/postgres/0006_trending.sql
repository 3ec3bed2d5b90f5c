-- "Trending" as a stored score (votes, plus three for each vote of the last week), kept current by
-- each vote and refreshed in the background as votes age, so the sort reads an index.
ALTER TABLE ideas ADD COLUMN trend_score BIGINT NOT NULL DEFAULT 0;
UPDATE ideas SET trend_score = vote_count;
CREATE INDEX ideas_campaign_trend ON ideas (campaign_id, trend_score, id);
