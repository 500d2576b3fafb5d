//! The gateway's configuration: a TOML file (config/gateway.example.toml documents every key),
//! overridden by environment variables `AGAP_<SECTION>__<KEY>` (for secrets and containers,
//! e.g. `AGAP_STORE__URL`, `AGAP_IMAP__HOST`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use agap_adapter_imap::ImapSettings;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::folder::{ReservedFolder, ReservedNames};

/// Everything the gateway reads at start-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The AGAP listeners and connection limits.
    pub server: ServerConfig,
    /// The gateway's own store.
    pub store: StoreConfig,
    /// The IMAP server behind MESG folders.
    pub imap: ImapConfig,
    /// Upstream names of reserved folders the gateway creates when missing.
    pub folders: FolderNames,
    /// Message handling.
    pub mail: MailConfig,
    /// The CalDAV/CardDAV server (used once the calendar and contact adapters land).
    pub dav: DavConfig,
    /// Logging.
    pub log: LogConfig,
}

/// `[server]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Addresses to listen on for AGAP.
    pub listen: Vec<SocketAddr>,
    /// Host name shown in the welcome line.
    pub name: String,
    /// Connections served at once; one more gets the welcome `410`.
    pub max_connections: usize,
    /// Longest accepted line in characters, line end included (draft 2.2).
    pub max_line_length: usize,
    /// A connection silent for this many seconds is closed.
    pub idle_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 4110))],
            name: "agap-gateway".into(),
            max_connections: 1000,
            max_line_length: 1024,
            idle_timeout_secs: 1800,
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` (created if missing).
    pub url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { url: "sqlite://agap-gateway.db".into() }
    }
}

/// `[imap]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    /// IMAP server host.
    pub host: String,
    /// IMAP server port.
    pub port: u16,
    /// IMAP connections per user shared by all of the user's AGAP sessions.
    pub max_connections_per_user: usize,
    /// Pooled connections idle this long are closed.
    pub idle_connection_secs: u64,
    /// A password proven upstream is accepted again without a new LOGIN for this long (0: never).
    pub login_cache_secs: u64,
    /// Bound on connecting to the IMAP server.
    pub connect_timeout_secs: u64,
    /// Bound on one IMAP command.
    pub command_timeout_secs: u64,
}

impl Default for ImapConfig {
    fn default() -> Self {
        let defaults = ImapSettings::default();
        Self {
            host: defaults.host,
            port: defaults.port,
            max_connections_per_user: defaults.max_connections_per_user,
            idle_connection_secs: defaults.idle_connection_timeout.as_secs(),
            login_cache_secs: defaults.login_cache_ttl.as_secs(),
            connect_timeout_secs: defaults.connect_timeout.as_secs(),
            command_timeout_secs: defaults.command_timeout.as_secs(),
        }
    }
}

impl ImapConfig {
    /// The adapter's settings.
    pub fn settings(&self) -> ImapSettings {
        ImapSettings {
            host: self.host.clone(),
            port: self.port,
            max_connections_per_user: self.max_connections_per_user,
            idle_connection_timeout: Duration::from_secs(self.idle_connection_secs),
            login_cache_ttl: Duration::from_secs(self.login_cache_secs),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            command_timeout: Duration::from_secs(self.command_timeout_secs),
        }
    }
}

/// `[folders]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FolderNames {
    /// Upstream name of SENT when no mailbox has the `\Sent` special use.
    pub sent: String,
    /// Upstream name of DRAFT when no mailbox has `\Drafts`.
    pub drafts: String,
    /// Upstream name of TRASH when no mailbox has `\Trash`.
    pub trash: String,
    /// Upstream name of JUNK when no mailbox has `\Junk`.
    pub junk: String,
    /// Upstream name of OUTBOX (IMAP has no special use for it).
    pub outbox: String,
}

impl Default for FolderNames {
    fn default() -> Self {
        Self {
            sent: "Sent".into(),
            drafts: "Drafts".into(),
            trash: "Trash".into(),
            junk: "Junk".into(),
            outbox: "Outbox".into(),
        }
    }
}

impl ReservedNames for FolderNames {
    fn default_name(&self, folder: ReservedFolder) -> &str {
        match folder {
            ReservedFolder::Inbox => "INBOX",
            ReservedFolder::Sent => &self.sent,
            ReservedFolder::Draft => &self.drafts,
            ReservedFolder::Trash => &self.trash,
            ReservedFolder::Junk => &self.junk,
            ReservedFolder::Outbox => &self.outbox,
        }
    }
}

/// What SPAM (draft 4.36) does with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpamReport {
    /// Write a log line naming the user, folder, message and reason.
    Log,
    /// Log, and move the message to JUNK.
    MoveToJunk,
}

/// `[mail]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Largest item STOR accepts, in bytes of content lines; larger content is refused whole.
    pub max_item_size: usize,
    /// Where SPAM reports go.
    pub spam_report: SpamReport,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self { max_item_size: 25 * 1024 * 1024, spam_report: SpamReport::Log }
    }
}

/// `[dav]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DavConfig {
    /// Base URL of the CalDAV/CardDAV server; without it the gateway serves mail only.
    pub url: Option<String>,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `agap_gateway=debug,info`.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { filter: "info".into() }
    }
}

/// A configuration that cannot be read, with the file, key and reason.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads `path` (if given) over the defaults, then the `AGAP_` environment variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError(format!("configuration file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Only AGAP_<SECTION>__<KEY> variables are overrides: others with the prefix, such as
        // AGAP_CONFIG (the --config option), are not configuration keys.
        let overrides = Env::prefixed("AGAP_").filter(|key| key.as_str().contains("__")).split("__");
        figment.merge(overrides).extract().map_err(|error| ConfigError(error.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_matches_the_defaults_it_documents() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/gateway.example.toml");
        let config = Config::load(Some(&example)).expect("example config parses");
        assert_eq!(config.server.max_line_length, 1024);
        assert_eq!(config.imap.port, 143);
    }

    #[test]
    fn environment_variables_override_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("gateway.toml", "[imap]\nhost = \"mail.example\"\nport = 993\n")?;
            jail.set_env("AGAP_IMAP__HOST", "dovecot");
            jail.set_env("AGAP_STORE__URL", "sqlite:///var/lib/agap/store.db");
            let config = Config::load(Some(Path::new("gateway.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.imap.host, "dovecot");
            assert_eq!(config.imap.port, 993);
            assert_eq!(config.store.url, "sqlite:///var/lib/agap/store.db");
            Ok(())
        });
    }

    #[test]
    fn other_agap_variables_are_not_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("AGAP_CONFIG", "/etc/agap/gateway.toml");
            jail.set_env("AGAP_BENCH_MESSAGES", "10");
            jail.set_env("AGAP_IMAP__PORT", "1143");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.imap.port, 1143);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("gateway.toml", "[imap]\nhots = \"typo\"\n")?;
            assert!(Config::load(Some(Path::new("gateway.toml"))).is_err());
            Ok(())
        });
    }
}
