//! CAPA (draft 4.7): what this gateway really offers.

use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;

/// Lists the capabilities.
pub fn handle(gateway: &Gateway, argument: Option<&str>) -> AgapResult<Reply> {
    super::expect_no_argument("CAPA", argument)?;
    Ok(Reply::ok("OK CAPA completed").with_lines(gateway.capabilities()))
}
