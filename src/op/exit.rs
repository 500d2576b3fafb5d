//! EXIT (draft 4.19): back to the not-authenticated state.

use crate::codec::Reply;
use crate::error::AgapResult;

/// Acknowledges; the session drops the account.
pub fn handle() -> AgapResult<Reply> {
    Ok(Reply::ok("OK EXIT completed"))
}
