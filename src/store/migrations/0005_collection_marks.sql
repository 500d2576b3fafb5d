-- The gateway's marks (AGAP type and path) of calendar and contact collections on DAV servers
-- that keep no dead properties (elsewhere the mark lives on the collection itself).
CREATE TABLE collection_mark (
    account    TEXT NOT NULL,
    collection TEXT NOT NULL,
    mark       TEXT NOT NULL,
    PRIMARY KEY (account, collection)
);
