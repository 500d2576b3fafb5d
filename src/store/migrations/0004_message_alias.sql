-- Messages whose AGAP UID is no longer their IMAP UID: DATT replaces a message upstream (APPEND of
-- the new version, expunge of the old), and the new version keeps the old AGAP UID
-- (docs/interpretations.md, DATT-KEEPS-UID). One UID space (UIDVALIDITY) per mailbox; a mailbox
-- that has had aliases in it has a generation, mixed into its UCID, so that losing these tables
-- changes the UCID (draft 2.7) and loses no user data.
CREATE TABLE message_alias_generation (
    account      TEXT NOT NULL,
    mailbox      TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    generation   TEXT NOT NULL,
    PRIMARY KEY (account, mailbox)
);

CREATE TABLE message_alias (
    account  TEXT NOT NULL,
    mailbox  TEXT NOT NULL,
    agap_uid INTEGER NOT NULL,
    imap_uid INTEGER NOT NULL,
    PRIMARY KEY (account, mailbox, agap_uid),
    UNIQUE (account, mailbox, imap_uid)
);
