//! SGZP (draft 4.8): gzip on the channel in both directions; the 200 line still goes out
//! uncompressed.

use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::{Channel, Switch};

/// 200 and the switch to make; 200 alone when compression is on already (4.8); 510 when the
/// configuration switched it off (Fig 47).
pub fn handle(gateway: &Gateway, channel: &Channel) -> AgapResult<(Reply, Option<Switch>)> {
    if channel.layers.gzip {
        return Ok((Reply::ok("OK Using GZIP"), None));
    }
    if !channel.can_start_gzip(&gateway.config) {
        return Err(AgapError::unknown_command("SGZP is not offered by this gateway"));
    }
    Ok((Reply::ok("OK Using GZIP"), Some(Switch::Gzip)))
}
