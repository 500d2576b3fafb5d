//! CPU-bound work of a command (parsing an item up to the size limit, compiling a filter's
//! regular expressions) runs on tokio's threads for blocking work, never on a runtime worker,
//! which would hold up every other session it serves.

use crate::error::{AgapError, AgapResult};

/// Runs `work` on a blocking thread; `what` names it in the log if the thread panics.
pub async fn off_the_runtime<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> AgapResult<T> + Send + 'static,
) -> AgapResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|error| AgapError::internal(format!("{what} failed: {error}")))?
}
