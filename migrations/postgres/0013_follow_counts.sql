-- How many follow each person and how many they follow, kept on the account and changed in the same
-- transaction as the follow (follows::store). A profile counted them on every view: 2 ms for
-- someone 60,000 people follow, against 40 µs for a whole typical profile's counts.
ALTER TABLE users ADD COLUMN follower_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN following_count BIGINT NOT NULL DEFAULT 0;
UPDATE users SET follower_count = (SELECT COUNT(*) FROM follows WHERE followee_id = users.id),
                 following_count = (SELECT COUNT(*) FROM follows WHERE follower_id = users.id);
