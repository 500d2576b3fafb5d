//! STLS (draft 4.9): TLS on the channel; the 200 line still goes out in clear, the handshake
//! follows it.

use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::{Channel, Switch};

/// 200 and the switch to make; 200 alone inside TLS (4.9); 510 without a certificate (Fig 49).
pub fn handle(gateway: &Gateway, channel: &Channel) -> AgapResult<(Reply, Option<Switch>)> {
    if channel.layers.tls {
        return Ok((Reply::ok("OK Using TLS"), None));
    }
    if !channel.can_start_tls(&gateway.config) {
        return Err(AgapError::unknown_command("STLS is not offered: no certificate is configured"));
    }
    Ok((Reply::ok("OK Using TLS"), Some(Switch::Tls)))
}
