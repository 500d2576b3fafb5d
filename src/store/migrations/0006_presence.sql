-- Presence (draft 4.33): one row per session that announced its user, and per account its
-- texts and when its last announcing session ended. Times are seconds since the Unix epoch.
CREATE TABLE presence_session (
    session      TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    availability TEXT NOT NULL,
    since        INTEGER NOT NULL,
    expires      INTEGER
);
CREATE INDEX presence_session_account ON presence_session (account);

CREATE TABLE presence_account (
    account       TEXT PRIMARY KEY,
    status        TEXT,
    location      TEXT,
    offline_since INTEGER
);
