//! CAPA (draft 4.7): what this gateway really offers on this connection.
//!
//! Names from the list of 4.7 (docs/interpretations.md, `CAPA-GZIP-TLS`: SGZP and STLS, not Fig
//! 45's GZIP and TLS). STLS and SGZP appear only while they would switch something on; AUTH-PLAIN
//! only while AUTH would be accepted (not before STLS where TLS is required), as IMAP drops its
//! AUTH= capabilities under LOGINDISABLED.

use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::Channel;

/// Lists the capabilities.
pub fn handle(gateway: &Gateway, channel: &Channel) -> AgapResult<Reply> {
    Ok(Reply::ok("OK CAPA completed").with_lines(capabilities(gateway, channel)))
}

/// The CAPA lines, sorted.
pub fn capabilities(gateway: &Gateway, channel: &Channel) -> Vec<String> {
    let config = &gateway.config;
    let mut lines = gateway.capabilities();
    if channel.auth_needs_tls(config) {
        lines.retain(|line| !line.starts_with("AUTH-"));
    }
    if channel.can_start_tls(config) {
        lines.push("STLS".into());
    }
    if channel.can_start_gzip(config) {
        lines.push("SGZP".into());
    }
    lines.sort_unstable();
    lines
}
