-- FILT folder definitions, for IMAP servers without METADATA (with it they live upstream).
CREATE TABLE filter_definition (
    account    TEXT NOT NULL,
    upstream   TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (account, upstream)
);
