//! SUID (draft 4.40): the UID of the last successful STOR since the folder was selected.

use crate::codec::Reply;
use crate::error::AgapResult;
use crate::state::Selection;

/// Reports the remembered UID, if any.
pub fn handle(selection: &Selection) -> AgapResult<Reply> {
    Ok(match &selection.last_stored {
        Some(uid) => Reply::ok(format!("OK SUID completed; found {uid}")).with_lines(vec![uid.clone()]),
        None => Reply::ok("OK There was no successful STOR since the last SLCT"),
    })
}
