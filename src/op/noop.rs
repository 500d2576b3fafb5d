//! NOOP (draft 4.32).

use crate::codec::Reply;
use crate::error::AgapResult;

/// Does nothing.
pub fn handle() -> AgapResult<Reply> {
    Ok(Reply::ok("OK NOOP completed"))
}
