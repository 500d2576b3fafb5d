//! NOOP (draft 4.32).

use crate::codec::Reply;
use crate::error::AgapResult;

/// Does nothing.
pub fn handle(argument: Option<&str>) -> AgapResult<Reply> {
    super::expect_no_argument("NOOP", argument)?;
    Ok(Reply::ok("OK NOOP completed"))
}
