-- The load benchmark found every idea page reading all ideas to list those merged into it (17 ms
-- per view with 100,000 ideas): an index on the merge target makes it a lookup. Partial, because
-- almost every idea is merged into nothing, and a full index on a column that is nearly all NULL
-- tempted SQLite's planner into it for `merged_into_id IS NULL` (every idea list 20 times slower).
CREATE INDEX ideas_merged_into_id ON ideas (merged_into_id) WHERE merged_into_id IS NOT NULL;
