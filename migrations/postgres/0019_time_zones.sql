-- The time zone a person reads and types times in (an IANA name such as "Europe/Berlin"); empty
-- means the site's, which admins set in the settings (the "time_zone" key).
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
