-- The RFC 6578 sync-token the UID map of a collection was last brought up to date with: the
-- next refresh asks the server only for what changed since. Losing it costs one full listing.
CREATE TABLE item_sync_token (
    account    TEXT NOT NULL,
    collection TEXT NOT NULL,
    token      TEXT NOT NULL,
    PRIMARY KEY (account, collection)
);
