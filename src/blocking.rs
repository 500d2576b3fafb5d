//! CPU-bound work of a command (parsing an item up to the size limit, compiling a filter's
//! regular expressions) runs on tokio's threads for blocking work, never on a runtime worker,
//! which would hold up every other session it serves; small inputs without regular expressions
//! are the exception, since the hand-off would cost more than the work.

use crate::error::{AgapError, AgapResult};

/// Runs `work` on a blocking thread; `what` names it in the log if the thread panics.
pub async fn off_the_runtime<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> AgapResult<T> + Send + 'static,
) -> AgapResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(|error| AgapError::internal(format!("{what} failed: {error}")))?
}

/// Inputs up to this many bytes are worked on where the command runs: parsing them takes less
/// than the hand-off to a blocking thread and back (two thread wake-ups per command).
pub const INLINE_INPUT: usize = 16 * 1024;

/// As [`off_the_runtime`] for an input of `size` bytes over [`INLINE_INPUT`] or one that may
/// compile regular expressions (`costly`); a smaller one is worked on at once, a panic in it
/// answered as the blocking thread's would be.
pub async fn off_the_runtime_unless_small<T: Send + 'static>(
    what: &'static str,
    size: usize,
    costly: bool,
    work: impl FnOnce() -> AgapResult<T> + Send + 'static,
) -> AgapResult<T> {
    if costly || size > INLINE_INPUT {
        return off_the_runtime(what, work).await;
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(AgapError::internal(format!("{what} failed: it panicked"))))
}

/// Whether a filter's text may hold regular expressions, which are compiled off the runtime
/// whatever their size (a short one can cost megabytes and milliseconds to compile).
pub fn may_compile_regexes(text: &str) -> bool {
    text.as_bytes().windows(5).any(|window| window.eq_ignore_ascii_case(b"REGEX"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_inputs_run_at_once_and_a_panic_is_an_error_not_a_dead_session() {
        let thread = std::thread::current().id();
        let here = off_the_runtime_unless_small("t", 10, false, move || Ok(std::thread::current().id() == thread));
        assert!(here.await.expect("ran"), "a small input is worked on where the command runs");
        let away = off_the_runtime_unless_small("t", INLINE_INPUT + 1, false, move || {
            Ok(std::thread::current().id() == thread)
        });
        assert!(!away.await.expect("ran"), "a large one on a blocking thread");
        let costly = off_the_runtime_unless_small("t", 10, true, move || Ok(std::thread::current().id() == thread));
        assert!(!costly.await.expect("ran"));
        let panicked: AgapResult<()> = off_the_runtime_unless_small("t", 10, false, || panic!("boom")).await;
        assert!(panicked.is_err());
        assert!(may_compile_regexes("IS a = 'b'\nregex /x/ 'y'") && !may_compile_regexes("TAG SEEN"));
    }
}
