//! The `agap-gateway` binary: command line, configuration, logging, listeners.

use std::path::PathBuf;

use clap::Parser;

use agap_gateway::config::Config;

/// Offers AGAP on top of an IMAP (and later CalDAV/CardDAV) server.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Arguments {
    /// Configuration file (TOML; see config/gateway.example.toml). Every key can be overridden
    /// by an environment variable AGAP_<SECTION>__<KEY>, e.g. AGAP_IMAP__HOST.
    #[arg(long, short, env = "AGAP_CONFIG")]
    config: Option<PathBuf>,
    /// Check the configuration, print the effective one as TOML (secrets shown as <redacted>)
    /// and exit.
    #[arg(long)]
    check_config: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let config = Config::load(arguments.config.as_deref())?;
    if arguments.check_config {
        print!("{}", config.render_toml()?);
        return Ok(());
    }
    agap_gateway::logging::init(&config.log.filter)?;

    let running = agap_gateway::server::start(config).await?;
    for address in &running.addresses {
        tracing::info!(%address, "AGAP listening");
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
