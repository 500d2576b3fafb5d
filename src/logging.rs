//! The gateway's log: the operator's filter (`[log] filter` or `RUST_LOG`), capped for the
//! libraries that write credentials at trace level.
//!
//! async-imap traces every command it sends, `LOGIN user password` and the base64 SASL response
//! with the master password included; no filter an operator writes may let those through, so
//! the cap is a second filter the operator's cannot widen.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::config::{LogConfig, LogFormat};

/// Targets whose trace output holds credentials sent upstream; nothing finer than `debug` is
/// logged from them, whatever the operator's filter says.
pub const CREDENTIAL_TARGETS: [&str; 2] = ["async_imap", "imap_proto"];

/// The filter the operator asked for: `RUST_LOG` when it is set and valid, else `configured`.
pub fn operator_filter(configured: &str) -> EnvFilter {
    EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(configured))
}

/// The cap on `CREDENTIAL_TARGETS`; it only removes, so other targets keep the operator's levels.
fn credential_cap() -> Targets {
    CREDENTIAL_TARGETS.into_iter().fold(Targets::new().with_default(LevelFilter::TRACE), |cap, target| {
        cap.with_target(target, LevelFilter::DEBUG)
    })
}

/// How records are written: text (coloured with ANSI escapes only for a terminal) or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Text lines, coloured or not.
    Text {
        /// Whether levels get ANSI colour.
        colour: bool,
    },
    /// One JSON object per record.
    Json,
}

/// The subscriber writing to `writer` with `filter`, under the credential cap.
pub fn subscriber<W>(filter: EnvFilter, writer: W, style: Style) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::fmt::layer;
    let (text, json) = match style {
        Style::Text { colour } => (Some(layer().with_writer(writer).with_target(false).with_ansi(colour)), None),
        Style::Json => (None, Some(layer().with_writer(writer).with_target(false).json().with_current_span(false))),
    };
    // Both filters are global layers: an event is recorded only if each of them enables it.
    tracing_subscriber::registry().with(filter).with(credential_cap()).with(text).with(json)
}

/// Whether the log on standard output gets colour: only on a terminal, and never with
/// `NO_COLOR` set (no-color.org); a file or pipe gets plain text.
pub fn colour_for_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Installs the log for the process (standard output), including records of the `log` crate,
/// which async-imap and others write to.
pub fn init(config: &LogConfig) -> anyhow::Result<()> {
    use tracing_subscriber::util::SubscriberInitExt;
    let style = match config.format {
        LogFormat::Text => Style::Text { colour: colour_for_stdout() },
        LogFormat::Json => Style::Json,
    };
    subscriber(operator_filter(&config.filter), std::io::stdout, style).try_init()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn logged(filter: &str) -> String {
        logged_as(filter, Style::Text { colour: false })
    }

    fn logged_as(filter: &str, style: Style) -> String {
        let buffer = Buffer::default();
        let subscriber = subscriber(EnvFilter::new(filter), buffer.clone(), style);
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "async_imap::imap_stream", "encode: LOGIN alice s3cret");
            tracing::trace!(target: "imap_proto", "parse: s3cret");
            tracing::debug!(target: "async_imap", "debug line");
            tracing::trace!(target: "agap_gateway::session", "trace line");
        });
        let bytes = buffer.0.lock().map(|bytes| bytes.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn credential_targets_never_log_at_trace_whatever_the_filter() {
        for filter in ["trace", "async_imap=trace,imap_proto=trace", "trace,async_imap::imap_stream=trace"] {
            let text = logged(filter);
            assert!(!text.contains("s3cret"), "{filter}: {text}");
            assert!(text.contains("debug line"), "{filter}: the cap leaves debug: {text}");
        }
        assert!(logged("trace").contains("trace line"), "other targets keep the operator's level");
        assert!(!logged("info").contains("debug line"), "the cap never widens the operator's filter");
    }

    #[test]
    fn json_lines_are_one_object_per_record_under_the_same_cap() {
        let text = logged_as("trace", Style::Json);
        assert!(!text.contains("s3cret"), "{text}");
        let records: Vec<serde_json::Value> =
            text.lines().map(|line| serde_json::from_str(line).expect("a JSON object per line")).collect();
        assert_eq!(records.len(), 2, "{text}");
        assert_eq!(records[1]["level"], "TRACE");
        assert_eq!(records[1]["fields"]["message"], "trace line");
        assert!(records[0]["timestamp"].is_string());
    }
}
