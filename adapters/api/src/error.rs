//! What can go wrong upstream, in terms the core can map to AGAP reply codes.
//!
//! Adapters translate protocol specifics (IMAP `NO [NONEXISTENT]`, HTTP 412, connection refused)
//! into one of these kinds; the core decides the reply code in one place.

use std::fmt;

/// The result type of every adapter operation.
pub type AdapterResult<T> = Result<T, AdapterError>;

/// Why an upstream operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterErrorKind {
    /// The upstream server rejected the credentials.
    AuthenticationFailed,
    /// The named object does not exist upstream.
    NotFound,
    /// An object with that name already exists upstream.
    AlreadyExists,
    /// The object changed upstream since it was read (HTTP 412 on If-Match): another client was
    /// faster; reading again and retrying may work.
    Conflict,
    /// The upstream server understood the request and refused it (permissions, invalid name,
    /// a folder that still has children, ...). The client may not retry as is.
    Refused,
    /// The upstream server is unreachable, overloaded or out of resources; retrying later may work.
    Unavailable,
    /// The upstream server answered something the adapter could not understand, or the
    /// connection broke mid-command.
    Protocol,
    /// The adapter or the upstream server does not offer this operation.
    Unsupported,
    /// The object is larger than the caller allowed; it was not read whole.
    TooLarge,
    /// The server keeps an item's iCalendar UID unique beyond the target collection (per user,
    /// as RFC 6638 3.2.4.1 `unique-scheduling-object-resource` asks of scheduling objects) and
    /// another collection holds it: a copy there needs a UID of its own.
    UidInUse,
}

/// An upstream failure with a human-readable reason (never containing credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AdapterError {
    kind: AdapterErrorKind,
    reason: String,
}

impl AdapterError {
    /// Creates an error of `kind` with a reason for the client and the log.
    pub fn new(kind: AdapterErrorKind, reason: impl Into<String>) -> Self {
        Self { kind, reason: reason.into() }
    }

    /// The class of failure.
    pub fn kind(&self) -> AdapterErrorKind {
        self.kind
    }

    /// The reason, fit to show to the AGAP client.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Shorthand for an operation this adapter does not implement.
    pub fn unsupported(what: &str) -> Self {
        Self::new(AdapterErrorKind::Unsupported, format!("{what} is not supported by this backend"))
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.reason)
    }
}
