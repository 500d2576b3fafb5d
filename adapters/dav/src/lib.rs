//! The CalDAV and CardDAV adapter of the AGAP gateway: a WebDAV client with service discovery
//! (RFC 6764, RFC 5397 current-user-principal, the calendar and address book home sets of
//! RFC 4791 and RFC 6352) and the `CollectionBackend` over it (collections, items, queries,
//! multiget, sync-collection of RFC 6578), and the `FileBackend` of plain WebDAV file servers
//! (RFC 4918). It relies only on what the server reports, never on one server's URL layout.

mod account;
mod cache;
mod client;
mod files;
mod href;
#[cfg(test)]
mod mock;
mod multistatus;
mod query;
mod requests;

pub use account::{AccountHomes, DavAccount, DavBackend, MULTIGET_BATCH};
pub use client::{
    BodyLimits, Collection, CollectionKind, DavClient, Homes, MIN_LISTING, http_client, http_client_with_tls,
    requests_sent,
};
pub use files::{DavFileAccount, DavFileBackend, HomeSource, USER_PLACEHOLDER};
pub use href::canonical_path;
pub use multistatus::{Multistatus, PropResponse, parse_multistatus, parse_multistatus_document};
