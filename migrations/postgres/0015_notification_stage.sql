-- A stage-change notification keeps the stage it was sent for (its reason goes in `message`), so
-- that an idea moved twice gives two notifications that each name their own stage.
ALTER TABLE notifications ADD COLUMN stage TEXT;
