//! The one error type of the gateway core and its one mapping to AGAP reply codes.
//!
//! Every error records who is at fault (the client, the upstream server, the gateway). Internal
//! errors reach the client as 401 with a correlation id; their details go to the log only.

use agap_adapter_api::{AdapterError, AdapterErrorKind};

use crate::codec::{Reply, ReplyCode};

/// Who caused a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong; the client must change it.
    Client,
    /// The upstream server failed or refused.
    Upstream,
    /// The gateway itself failed.
    Gateway,
}

/// What went wrong, at the granularity of AGAP reply codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command is unknown, not valid in this state, or its syntax is wrong (510).
    UnknownCommand,
    /// An argument is invalid, or names something that does not exist (511).
    InvalidParameter,
    /// The item is larger than the gateway holds (`[mail] max_item_size`): 511, and a limit
    /// that fired, which the session logs.
    TooLarge,
    /// The command must follow another one (512).
    OutOfOrder,
    /// AUTH before STLS on a connection that needs TLS for it (512: it must follow STLS).
    TlsRequired,
    /// The argument is well-formed but names nothing (521).
    NotFound,
    /// The client's address is banned (531); the connection closes after the reply.
    Banned,
    /// The client did this too often in too short a time (410: it may retry later).
    RateLimited,
    /// A bound of the gateway on what one user may hold is reached (410: it frees up as the
    /// user's other sessions end).
    LimitReached,
    /// The upstream server is temporarily unable to serve the request (410).
    UpstreamUnavailable,
    /// The upstream server failed in a way retrying will not fix (401).
    UpstreamFailed,
    /// The gateway failed; the id ties the client's reply to the log entry (401).
    Internal {
        /// Short random id shown to the client and written to the log.
        correlation: String,
    },
}

/// A failed command: the kind decides the code, the reason is for humans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {reason}")]
pub struct AgapError {
    kind: ErrorKind,
    reason: String,
}

/// The result type of command handlers.
pub type AgapResult<T> = Result<T, AgapError>;

impl AgapError {
    fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        Self { kind, reason: reason.into() }
    }

    /// 510.
    pub fn unknown_command(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnknownCommand, reason)
    }

    /// 511.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, reason)
    }

    /// 511 for an item over the gateway's size limit.
    pub fn too_large(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, reason)
    }

    /// 410 for a client past a rate limit.
    pub fn rate_limited(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited, reason)
    }

    /// 512.
    pub fn out_of_order(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::OutOfOrder, reason)
    }

    /// 512 "EXPECTED STLS": AUTH refused until the channel is encrypted.
    pub fn tls_required(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::TlsRequired, reason)
    }

    /// 531: the client may not interact with the gateway now.
    pub fn banned(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Banned, reason)
    }

    /// 410 for a per-user bound of the gateway (e.g. `[presence] max_sessions_per_user`).
    pub fn limit_reached(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::LimitReached, reason)
    }

    /// 521.
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, reason)
    }

    /// 401 for a failure of the gateway itself; logs `detail` under a fresh correlation id.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let correlation = format!("{:08x}", rand::random::<u32>());
        tracing::error!(%correlation, %detail, "internal error");
        Self::new(ErrorKind::Internal { correlation }, "Internal error")
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Who is at fault.
    pub fn fault(&self) -> Fault {
        match self.kind {
            ErrorKind::UnknownCommand
            | ErrorKind::InvalidParameter
            | ErrorKind::TooLarge
            | ErrorKind::OutOfOrder
            | ErrorKind::TlsRequired
            | ErrorKind::NotFound
            | ErrorKind::RateLimited
            | ErrorKind::LimitReached
            | ErrorKind::Banned => Fault::Client,
            ErrorKind::UpstreamUnavailable | ErrorKind::UpstreamFailed => Fault::Upstream,
            ErrorKind::Internal { .. } => Fault::Gateway,
        }
    }

    /// The reply the client gets: the only place where errors become reply codes.
    pub fn to_reply(&self) -> Reply {
        let (code, text) = match &self.kind {
            ErrorKind::UnknownCommand => (ReplyCode::UnknownCommand, format!("UNKNOWN command: {}", self.reason)),
            ErrorKind::InvalidParameter | ErrorKind::TooLarge => {
                (ReplyCode::InvalidParameter, format!("ERROR {}", self.reason))
            }
            ErrorKind::OutOfOrder => (ReplyCode::OutOfOrder, format!("EXPECTED {}", self.reason)),
            // 512, not 511 or 531: AUTH PLAIN is offered and the client is welcome, but AUTH
            // "must to be send after" STLS here (5.5.4), like IMAP's LOGINDISABLED. 6.1 lists
            // only 200 and 511 for AUTH; 511 would claim the mechanism is unknown, 531 that the
            // client is banned, both false (docs/interpretations.md).
            ErrorKind::TlsRequired => (ReplyCode::OutOfOrder, format!("EXPECTED STLS: {}", self.reason)),
            ErrorKind::NotFound => (ReplyCode::NotFound, format!("ERROR {}", self.reason)),
            ErrorKind::Banned => (ReplyCode::Banned, format!("Banned: {}", self.reason)),
            ErrorKind::UpstreamUnavailable | ErrorKind::RateLimited | ErrorKind::LimitReached => {
                (ReplyCode::RetryLater, format!("Retry later: {}", self.reason))
            }
            ErrorKind::UpstreamFailed => (ReplyCode::InternalError, format!("Upstream error: {}", self.reason)),
            ErrorKind::Internal { correlation } => {
                (ReplyCode::InternalError, format!("{} (reference {correlation})", self.reason))
            }
        };
        Reply::new(code, text)
    }
}

impl From<AdapterError> for AgapError {
    fn from(error: AdapterError) -> Self {
        let kind = match error.kind() {
            AdapterErrorKind::NotFound
            | AdapterErrorKind::AlreadyExists
            | AdapterErrorKind::Refused
            | AdapterErrorKind::UidInUse => ErrorKind::InvalidParameter,
            AdapterErrorKind::TooLarge => ErrorKind::TooLarge,
            AdapterErrorKind::Unavailable | AdapterErrorKind::Conflict => ErrorKind::UpstreamUnavailable,
            // The session's credentials stopped working upstream (a changed password, say).
            AdapterErrorKind::AuthenticationFailed => ErrorKind::UpstreamUnavailable,
            AdapterErrorKind::Protocol => ErrorKind::UpstreamFailed,
            AdapterErrorKind::Unsupported => ErrorKind::UnknownCommand,
        };
        if !matches!(kind, ErrorKind::InvalidParameter | ErrorKind::TooLarge) {
            tracing::warn!(error = %error, "upstream failure");
        }
        Self::new(kind, error.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_its_code() {
        assert_eq!(AgapError::unknown_command("x").to_reply().code.number(), 510);
        assert_eq!(AgapError::invalid("x").to_reply().code.number(), 511);
        assert_eq!(AgapError::out_of_order("USER").to_reply().code.number(), 512);
        assert_eq!(AgapError::not_found("x").to_reply().code.number(), 521);
        assert_eq!(AgapError::banned("x").to_reply().code.number(), 531);
        let tls = AgapError::tls_required("encrypt first").to_reply();
        assert_eq!((tls.code.number(), tls.text.as_str()), (512, "EXPECTED STLS: encrypt first"));
        let internal = AgapError::internal("disk on fire");
        assert_eq!(internal.to_reply().code.number(), 401);
        assert!(!internal.to_reply().text.contains("disk"), "details stay in the log");
        assert_eq!(internal.fault(), Fault::Gateway);
    }

    #[test]
    fn upstream_failures_are_401_or_410() {
        let unavailable: AgapError = AdapterError::new(AdapterErrorKind::Unavailable, "down").into();
        assert_eq!(unavailable.to_reply().code.number(), 410);
        assert_eq!(unavailable.fault(), Fault::Upstream);
        let broken: AgapError = AdapterError::new(AdapterErrorKind::Protocol, "garbage").into();
        assert_eq!(broken.to_reply().code.number(), 401);
        let refused: AgapError = AdapterError::new(AdapterErrorKind::AlreadyExists, "exists").into();
        assert_eq!(refused.to_reply().code.number(), 511);
    }
}
