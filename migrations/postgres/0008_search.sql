-- Built-in full text search: stored tsvector columns with GIN indexes over posts, ideas and people,
-- computed by PostgreSQL in the same transaction as every write. Posts and ideas use the English
-- configuration (stems and stop-words), people's names the simple one.
ALTER TABLE posts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED;
CREATE INDEX posts_search ON posts USING GIN (search);

ALTER TABLE ideas ADD COLUMN search tsvector
    GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, title), 'A')
                         || setweight(to_tsvector('english'::regconfig, body), 'B')) STORED;
CREATE INDEX ideas_search ON ideas USING GIN (search);

ALTER TABLE users ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig,
        username || ' ' || display_name || ' ' || job_title || ' ' || department || ' ' || location)) STORED;
CREATE INDEX users_search ON users USING GIN (search);
