-- Facts the gateway cannot read upstream. Losing them loses no user data: FOLD folders show as
-- MESG and change ids restart from the current time (so they still only grow).

-- Folders created with MAKE FOLD are real upstream mailboxes; this remembers their type.
CREATE TABLE folder_kind (
    account  TEXT NOT NULL,
    upstream TEXT NOT NULL,
    kind     TEXT NOT NULL,
    PRIMARY KEY (account, upstream)
);

-- One counter per FCID / UCID scope: the value grows whenever the fingerprint of the upstream
-- state it summarises changes.
CREATE TABLE change_counter (
    account     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);
