-- The search outbox: when Meilisearch is configured (the `search.outbox` setting is on), every change
-- to a post, idea or person writes a row here in the same transaction, and a background worker
-- delivers them; a Meilisearch outage delays indexing but loses nothing.
CREATE TABLE search_outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT   NOT NULL CHECK (kind IN ('post', 'idea', 'person')),
    object_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE FUNCTION search_outbox_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM site_settings WHERE key = 'search.outbox' AND value = 'on') THEN
        INSERT INTO search_outbox (kind, object_id, created_at)
        VALUES (TG_ARGV[0], CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
                CAST(extract(epoch FROM now()) AS BIGINT));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER posts_outbox AFTER INSERT OR DELETE OR UPDATE OF body, hidden_at, deleted_at ON posts
    FOR EACH ROW EXECUTE FUNCTION search_outbox_enqueue('post');
CREATE TRIGGER ideas_outbox AFTER INSERT OR DELETE OR UPDATE OF title, body, hidden_at, anonymous, campaign_id ON ideas
    FOR EACH ROW EXECUTE FUNCTION search_outbox_enqueue('idea');
CREATE TRIGGER users_outbox AFTER INSERT OR UPDATE OF username, display_name, job_title, department, location, deleted_at ON users
    FOR EACH ROW EXECUTE FUNCTION search_outbox_enqueue('person');
