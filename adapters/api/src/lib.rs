//! The contract between the AGAP gateway core and its upstream adapters.
//!
//! Adapters speak their upstream protocol (IMAP, CalDAV, CardDAV, WebDAV) and its formats; the
//! core owns AGAP (commands, states, folder paths, renderings). This crate holds only what both
//! sides must agree on: credentials, the error vocabulary, and one trait per backend family (mail;
//! collections of calendars and contacts; files; delivery into other accounts) with
//! "unsupported" defaults so that capabilities follow what an adapter really implements.

pub mod collection;
mod credentials;
pub mod delivery;
mod error;
pub mod files;
pub mod mail;
pub mod query;
pub mod tags;

pub use credentials::{Credentials, CredentialsProof};
pub use error::{AdapterError, AdapterErrorKind, AdapterResult};
