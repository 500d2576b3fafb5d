-- The UID map of calendar and contact collections (CalDAV, CardDAV): each upstream item (href,
-- with the ETag last seen) has an AGAP UID, and its alarm, when it has one, another. UIDs grow in
-- the order items were first seen. Losing these tables loses no user data: the map is rebuilt
-- with a new generation, which gives the folder a new UCID (draft 2.7).
CREATE TABLE item_map_generation (
    account    TEXT NOT NULL,
    collection TEXT NOT NULL,
    generation TEXT NOT NULL,
    next_uid   INTEGER NOT NULL,
    PRIMARY KEY (account, collection)
);

CREATE TABLE item_map (
    account    TEXT NOT NULL,
    collection TEXT NOT NULL,
    href       TEXT NOT NULL,
    etag       TEXT,
    uid        INTEGER NOT NULL,
    alarm_uid  INTEGER,
    PRIMARY KEY (account, collection, href)
);

CREATE INDEX item_map_by_uid ON item_map (account, collection, uid);
CREATE INDEX item_map_by_alarm_uid ON item_map (account, collection, alarm_uid);
