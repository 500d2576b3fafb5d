//! The WebDAV client shared by the CalDAV and CardDAV adapters: service discovery (RFC 6764,
//! RFC 5397 current-user-principal, the calendar and address book home sets of RFC 4791 and
//! RFC 6352) and collection listing by PROPFIND (RFC 4918). It relies only on what the server
//! reports, never on one server's URL layout.

mod client;
mod multistatus;

pub use client::{Collection, CollectionKind, DavClient, Homes};
pub use multistatus::{PropResponse, parse_multistatus};
