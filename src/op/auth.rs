//! AUTH mechanism (draft 4.6): enters the pre-authentication state. MD5 and SHA1 first send
//! the prefix of the hash as a `.` line (Figs 35, 36), then the 200 line.

use crate::auth::{Mechanism, Proof, new_prefix};
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::PreAuth;

/// Accepts a mechanism this gateway offers; anything else, known to the draft or not, is 511.
pub fn handle(gateway: &Gateway, mechanism: Mechanism) -> AgapResult<(Reply, PreAuth)> {
    if let Some(reason) = gateway.mechanism_refusal(mechanism) {
        return Err(AgapError::invalid(format!("UNSUPPORTED method {}: {reason}", mechanism.name())));
    }
    let reply = Reply::ok("OK Send USER");
    let pre_auth = PreAuth { mechanism, user: None, prefix: None };
    Ok(match mechanism.proof() {
        Proof::Password => (reply, pre_auth),
        Proof::Digest(_) => {
            let prefix = new_prefix();
            (reply.with_lines(vec![prefix.clone()]), PreAuth { prefix: Some(prefix), ..pre_auth })
        }
    })
}
