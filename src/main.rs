//! The `agap-gateway` binary: command line, configuration, logging, listeners.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};

use agap_gateway::config::Config;

/// Offers AGAP on top of an IMAP server (mail) and a CalDAV/CardDAV server (calendars, tasks,
/// journals, contacts).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Arguments {
    /// Configuration file (TOML; see config/gateway.example.toml). Optional: without it the
    /// built-in defaults apply (below). Every key can be overridden by an environment variable
    /// AGAP_<SECTION>__<KEY>, e.g. AGAP_IMAP__HOST.
    #[arg(long, short, env = "AGAP_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration, print the effective one as TOML (secrets shown as <redacted>)
    /// and exit.
    #[arg(long)]
    check_config: bool,
}

/// What runs without `--config`, from the defaults themselves so that it cannot drift.
fn defaults_help() -> String {
    let defaults = Config::default();
    let listen: Vec<String> = defaults.server.listen.iter().map(ToString::to_string).collect();
    let store = defaults.store.url.strip_prefix("sqlite://").map_or(defaults.store.url.clone(), |file| {
        format!("the SQLite file {file} in the current directory (created if missing)")
    });
    format!(
        "Without --config (and without AGAP_* variables) the gateway runs on its built-in defaults:\n  \
         listens for AGAP on {listen}\n  \
         logs in users to IMAP at {imap_host}:{imap_port} (STARTTLS)\n  \
         no CalDAV/CardDAV server ([dav] url unset): mail folders only\n  \
         keeps its own state in {store}\n\
         Run with --check-config to print the effective configuration.",
        listen = listen.join(", "),
        imap_host = defaults.imap.host,
        imap_port = defaults.imap.port,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let matches = Arguments::command().after_help(defaults_help()).get_matches();
    let arguments = Arguments::from_arg_matches(&matches)?;
    let config = Config::load(arguments.config.as_deref())?;
    if arguments.check_config {
        print!("{}", config.render_toml()?);
        return Ok(());
    }
    agap_gateway::logging::init(&config.log)?;

    let running = agap_gateway::server::start(config).await?;
    // One line per listener, on standard output whatever the log filter (scripts wait for it).
    for address in &running.addresses {
        println!("agap-gateway listening on {address}");
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
