//! agap-gateway: the Advanced Groupware Access Protocol (draft-iulian-advanced-groupware-access-
//! protocol-04) in front of existing IMAP, CalDAV and CardDAV servers.
//!
//! Layers, outside in: `server` (listeners, with the per-address `limits`) runs each
//! connection's `transport` (the TLS and gzip layers, configured by `tls`), which feeds `codec`
//! lines to a `session`, whose state table routes each `command` to its handler in `op` (`auth`
//! holds the AUTH mechanisms and the credential source of hashed logins); handlers work on the
//! `folder` tree of an `account`, built from the adapters, with change ids kept in the `store`;
//! the item commands work on the `items` of a folder (one interface over mail folders and
//! calendar and contact collections, with their AGAP UIDs), `filter` is the filter language;
//! `files` opens the account on the WebDAV file server behind FILE folders; `presence` says what
//! the announcements of PNFO kept in the `store` mean and who may see them, on the gateway's
//! `clock`.

pub mod account;
pub mod auth;
pub mod blocking;
pub mod clock;
pub mod codec;
pub mod command;
pub mod config;
pub mod delivery;
pub mod error;
pub mod files;
pub mod filter;
pub mod folder;
pub mod format;
pub mod gateway;
pub mod ids;
pub mod items;
pub mod limits;
pub mod logging;
pub mod op;
pub mod presence;
pub mod server;
pub mod session;
pub mod state;
pub mod store;
pub mod tls;
pub mod transport;
