-- Built-in full text search: FTS5 indexes over posts, ideas and people, kept current by triggers in
-- the same transaction as every write. Posts and ideas are stemmed (porter), people's names are not.
CREATE VIRTUAL TABLE posts_fts USING fts5(
    body, content = 'posts', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER posts_fts_update AFTER UPDATE OF body ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO posts_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE VIRTUAL TABLE ideas_fts USING fts5(
    title, body, content = 'ideas', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO ideas_fts (ideas_fts) VALUES ('rebuild');
CREATE TRIGGER ideas_fts_insert AFTER INSERT ON ideas BEGIN
    INSERT INTO ideas_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER ideas_fts_delete AFTER DELETE ON ideas BEGIN
    INSERT INTO ideas_fts (ideas_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER ideas_fts_update AFTER UPDATE OF title, body ON ideas BEGIN
    INSERT INTO ideas_fts (ideas_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO ideas_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE VIRTUAL TABLE users_fts USING fts5(
    username, display_name, job_title, department, location,
    content = 'users', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO users_fts (users_fts) VALUES ('rebuild');
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, username, display_name, job_title, department, location)
    VALUES (new.id, new.username, new.display_name, new.job_title, new.department, new.location);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, username, display_name, job_title, department, location)
    VALUES ('delete', old.id, old.username, old.display_name, old.job_title, old.department, old.location);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF username, display_name, job_title, department, location ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, username, display_name, job_title, department, location)
    VALUES ('delete', old.id, old.username, old.display_name, old.job_title, old.department, old.location);
    INSERT INTO users_fts (rowid, username, display_name, job_title, department, location)
    VALUES (new.id, new.username, new.display_name, new.job_title, new.department, new.location);
END;
