//! The AGAP wire format (draft sections 2.1, 2.2, 4.1, 5.1): lines in, replies out.
//!
//! Pure functions over bytes and types; the server wraps them around its sockets.

mod line;
mod reply;

pub use line::{Line, LineDecoder};
pub use reply::{Body, CodeLine, Reply, ReplyCode, encode_data_line};
