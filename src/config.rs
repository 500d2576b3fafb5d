//! The gateway's configuration: a TOML file (config/gateway.example.toml documents every key),
//! overridden by environment variables `AGAP_<SECTION>__<KEY>` (for secrets and containers,
//! e.g. `AGAP_STORE__URL`, `AGAP_IMAP__HOST`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agap_adapter_imap::{ImapSecurity, ImapSettings};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::folder::{ReservedFolder, ReservedNames};
use crate::tls::TlsConfigError;

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
    /// The WebDAV file server behind FILE folders.
    pub files: FilesConfig,
    /// Delivery into other accounts: AUTH STORING and FSTO.
    pub delivery: DeliveryConfig,
    /// TLS towards AGAP clients: STLS and implicit-TLS listeners.
    pub tls: TlsConfig,
    /// Where the passwords behind AUTH MD5 and SHA1 come from.
    pub auth: AuthConfig,
    /// Per-client limits: connections per address, banned networks, failed logins.
    pub limits: LimitsConfig,
    /// Presence (PNFO, AUTH PRESENCE*): who may see whom, anonymous askers, bounds.
    pub presence: PresenceConfig,
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
    /// Offer SGZP (draft 4.8).
    pub compression: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 4110))],
            name: "agap-gateway".into(),
            max_connections: 1000,
            max_line_length: 1024,
            idle_timeout_secs: 1800,
            compression: true,
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
    /// How the connection to it is protected.
    pub security: UpstreamSecurity,
    /// PEM file of the CAs that sign the server's certificate, instead of the system's store.
    pub ca_file: Option<PathBuf>,
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
    /// Master user of the IMAP server: after AUTH MD5/SHA1 the gateway logs in to IMAP as this
    /// user on behalf of the AGAP user (SASL PLAIN with the AGAP user as authorization
    /// identity, RFC 4616). Without it, the `[auth] users_file` password is used.
    pub master_user: Option<String>,
    /// The master user's password.
    pub master_password: Option<Secret>,
}

impl Default for ImapConfig {
    fn default() -> Self {
        let defaults = ImapSettings::default();
        Self {
            host: defaults.host,
            port: defaults.port,
            security: UpstreamSecurity::Starttls,
            ca_file: None,
            max_connections_per_user: defaults.max_connections_per_user,
            idle_connection_secs: defaults.idle_connection_timeout.as_secs(),
            login_cache_secs: defaults.login_cache_ttl.as_secs(),
            connect_timeout_secs: defaults.connect_timeout.as_secs(),
            command_timeout_secs: defaults.command_timeout.as_secs(),
            master_user: None,
            master_password: None,
        }
    }
}

impl ImapConfig {
    /// The adapter's settings (reads the CA file or the system's store for TLS).
    pub fn settings(&self) -> Result<ImapSettings, TlsConfigError> {
        let client = || crate::tls::client_config(self.ca_file.as_deref()).map(Arc::new);
        let security = match self.security {
            UpstreamSecurity::Tls => ImapSecurity::Tls(client()?),
            UpstreamSecurity::Starttls => ImapSecurity::StartTls(client()?),
            UpstreamSecurity::Plain => ImapSecurity::Plain,
        };
        Ok(ImapSettings {
            host: self.host.clone(),
            port: self.port,
            security,
            max_connections_per_user: self.max_connections_per_user,
            idle_connection_timeout: Duration::from_secs(self.idle_connection_secs),
            login_cache_ttl: Duration::from_secs(self.login_cache_secs),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            command_timeout: Duration::from_secs(self.command_timeout_secs),
            // max_item_size is set from `[mail]` by the server, which sees both sections.
            ..ImapSettings::default()
        })
    }
}

/// How the gateway talks to the IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamSecurity {
    /// TLS from the first byte (IMAPS, usually port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS before LOGIN; no LOGIN without it.
    Starttls,
    /// No encryption: passwords cross the network in clear. Only when the config says so.
    Plain,
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
    /// Upstream name of NOTE, the notes mailbox ("Notes", where Apple Notes keeps notes).
    pub notes: String,
    /// Upstream name of CONFIGURATION where it is a mailbox (left unsubscribed); where the server
    /// keeps the gateway's annotations and no such mailbox exists, none is made
    /// (docs/configuration.md).
    pub configuration: String,
}

impl Default for FolderNames {
    fn default() -> Self {
        Self {
            sent: "Sent".into(),
            drafts: "Drafts".into(),
            trash: "Trash".into(),
            junk: "Junk".into(),
            outbox: "Outbox".into(),
            notes: "Notes".into(),
            configuration: "AGAP-Configuration".into(),
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
            ReservedFolder::Note => &self.notes,
            ReservedFolder::Configuration => &self.configuration,
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
    /// Largest item the gateway holds, in bytes: content STOR accepts (larger content is
    /// refused whole), and an item RETR or DATT reads upstream (larger: 511, not read whole).
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DavConfig {
    /// Base URL of the CalDAV/CardDAV server; without it the gateway serves mail only.
    pub url: Option<String>,
    /// Accept an `http://` URL (passwords in clear); otherwise only `https://`.
    pub allow_plain: bool,
    /// PEM file of the CAs that sign the server's certificate, instead of the system's store.
    pub ca_file: Option<PathBuf>,
    /// How long a user's list of calendars and address books is reused by that user's sessions,
    /// and how often the reserved folders are checked per user (0: list at every command that
    /// reads the folder tree, check once per session). CHNG and STAT always list anew.
    pub listing_cache_secs: u64,
}

impl Default for DavConfig {
    fn default() -> Self {
        Self { url: None, allow_plain: false, ca_file: None, listing_cache_secs: 30 }
    }
}

impl DavConfig {
    /// See `listing_cache_secs`.
    pub fn listing_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.listing_cache_secs)
    }

    /// The server's URL, checked: https, or http when `allow_plain` says so.
    pub fn base_url(&self) -> Result<Option<url::Url>, ConfigError> {
        match &self.url {
            Some(url) => checked_upstream_url("dav", url, self.allow_plain).map(Some),
            None => Ok(None),
        }
    }
}

/// An upstream URL of `[section] url`, checked: https, or http when `allow_plain` says so, and
/// without credentials.
fn checked_upstream_url(section: &str, url: &str, allow_plain: bool) -> Result<url::Url, ConfigError> {
    let parsed = url::Url::parse(url).map_err(|e| ConfigError(format!("[{section}] url {url:?}: {e}")))?;
    // Each user logs in with their own credentials; a password in the URL would be a secret
    // in a plain string (and in every error message that names the URL).
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError(format!(
            "[{section}] url must not hold a user name or password: users log in with their own"
        )));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_plain => Ok(parsed),
        "http" => Err(ConfigError(format!(
            "[{section}] url {url:?} is plain http: use https, or set [{section}] allow_plain = true to send passwords in clear"
        ))),
        other => Err(ConfigError(format!("[{section}] url {url:?}: scheme {other:?} is neither https nor http"))),
    }
}

/// `[files]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// The WebDAV file server: a URL template with `{user}` in its path (the user's home), or a
    /// URL where the user's principal is asked for (docs/files.md). Without it, no FILE folders.
    pub url: Option<String>,
    /// Accept an `http://` URL (passwords in clear); otherwise only `https://`.
    pub allow_plain: bool,
    /// PEM file of the CAs that sign the server's certificate, instead of the system's store.
    pub ca_file: Option<PathBuf>,
}

impl FilesConfig {
    /// The URL as configured (a template or not), checked like `[dav] url`; `None` without one.
    pub fn checked_url(&self) -> Result<Option<&str>, ConfigError> {
        let Some(url) = &self.url else { return Ok(None) };
        // A sample user stands for the placeholder: the URL as a whole must be valid.
        let sample = url.replace(agap_adapter_dav::USER_PLACEHOLDER, "user");
        checked_upstream_url("files", &sample, self.allow_plain)?;
        agap_adapter_dav::HomeSource::parse(url).map_err(|error| ConfigError(error.reason().to_owned()))?;
        Ok(Some(url))
    }
}

/// `[delivery]`: FSTO (draft 4.24) through the mail server's LMTP service
/// (docs/presence-and-delivery.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// `host:port` of the mail server's LMTP service (RFC 2033). Without it there is no AUTH
    /// STORING and no FSTO.
    pub lmtp: Option<String>,
    /// AUTH PLAIN at the LMTP service as this user, with `lmtp_password` (Cyrus's lmtpd admits
    /// only authenticated admins over TCP); unset: no AUTH.
    pub lmtp_user: Option<String>,
    /// The password of `lmtp_user`.
    pub lmtp_password: Option<Secret>,
    /// Accept an `lmtp` address that is not loopback: the LMTP service has no TLS here, so
    /// messages (and the `lmtp_user` login) cross the network in clear.
    pub allow_plain: bool,
    /// Accept anonymous STORING logins (USER anonymous, the sender's address as password).
    pub anonymous: bool,
    /// Deliveries one sender may make per minute (per gateway instance).
    pub per_sender_per_minute: u32,
    /// Deliveries one account may receive per minute (per gateway instance).
    pub per_recipient_per_minute: u32,
    /// The longest one delivery may take, connection included.
    pub timeout_secs: u64,
    /// A CalDAV/CardDAV account with rights on users' collections (write on every user's
    /// calendars and address books), through which FSTO delivers events, tasks, journals and
    /// contacts; with `dav_password` and `dav_principal`. Unset: FSTO delivers messages only.
    pub dav_user: Option<String>,
    /// The password of `dav_user`.
    pub dav_password: Option<Secret>,
    /// A user's principal on the `[dav]` server, `{user}` standing for the account name (one
    /// path segment): e.g. "/{user}/" (Radicale), "/dav/principals/user/{user}/" (Cyrus).
    pub dav_principal: Option<String>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            lmtp: None,
            lmtp_user: None,
            lmtp_password: None,
            allow_plain: false,
            anonymous: false,
            per_sender_per_minute: 20,
            per_recipient_per_minute: 60,
            timeout_secs: 30,
            dav_user: None,
            dav_password: None,
            dav_principal: None,
        }
    }
}

impl DeliveryConfig {
    /// The LMTP address, checked: `host:port`, loopback unless `allow_plain`; `None` without one.
    pub fn checked_lmtp(&self) -> Result<Option<&str>, ConfigError> {
        let Some(address) = &self.lmtp else { return Ok(None) };
        let (host, _) = address
            .rsplit_once(':')
            .filter(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|port| port > 0))
            .ok_or_else(|| ConfigError(format!("[delivery] lmtp {address:?} is not host:port")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback());
        if !loopback && !self.allow_plain {
            return Err(ConfigError(format!(
                "[delivery] lmtp {address:?} is not loopback: messages would cross the network in clear \
                 (set allow_plain = true if that network is trusted)"
            )));
        }
        if self.lmtp_user.is_some() != self.lmtp_password.is_some() {
            return Err(ConfigError("[delivery] lmtp_user and lmtp_password go together".into()));
        }
        let service = [self.dav_user.is_some(), self.dav_password.is_some(), self.dav_principal.is_some()];
        if service.contains(&true) && service.contains(&false) {
            return Err(ConfigError("[delivery] dav_user, dav_password and dav_principal go together".into()));
        }
        if let Some(principal) = &self.dav_principal
            && !principal.contains(agap_adapter_dav::USER_PLACEHOLDER)
        {
            return Err(ConfigError(format!(
                "[delivery] dav_principal {principal:?} must hold {} (the account name)",
                agap_adapter_dav::USER_PLACEHOLDER
            )));
        }
        Ok(Some(address))
    }
}

/// `[tls]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first. Without it (and `key`) there is no STLS.
    pub certificate: Option<PathBuf>,
    /// PEM private key of the certificate.
    pub key: Option<PathBuf>,
    /// Listeners speaking TLS from the first byte (then the welcome line).
    pub implicit_listen: Vec<SocketAddr>,
    /// Bound on a TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Refuse AUTH before STLS from clients that are not on this host (loopback).
    pub require_for_auth: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            certificate: None,
            key: None,
            implicit_listen: Vec::new(),
            handshake_timeout_secs: 30,
            require_for_auth: true,
        }
    }
}

impl TlsConfig {
    /// The certificate and key files, when both are set.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        Some((self.certificate.as_deref()?, self.key.as_deref()?))
    }
}

/// `[auth]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// File of `user:password` lines with clear passwords. With it, AUTH MD5 and AUTH SHA1 are
    /// offered: the gateway checks the hash against this password, then logs in upstream with
    /// it (or as `[imap] master_user`). The gateway then holds clear passwords.
    pub users_file: Option<PathBuf>,
}

/// `[limits]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Connections served at once per client address (IPv6: per /64); one more gets 410.
    pub max_connections_per_address: usize,
    /// Networks (CIDR, e.g. `192.0.2.0/24`, `2001:db8::/32`) greeted with 531 and closed.
    pub banned_networks: Vec<String>,
    /// Failed logins count for this many seconds.
    pub failed_login_window_secs: u64,
    /// Failed logins in the window answered at once; later ones wait a growing delay.
    pub failed_logins_before_delay: usize,
    /// Each failure past `failed_logins_before_delay` waits this many milliseconds more.
    pub failed_login_delay_step_ms: u64,
    /// Longest wait before a failure reply.
    pub failed_login_max_delay_ms: u64,
    /// This many failures in the window ban the address (0: never).
    pub failed_logins_before_ban: usize,
    /// A banned address is greeted with 531 for this many seconds.
    pub ban_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_connections_per_address: 100,
            banned_networks: Vec::new(),
            failed_login_window_secs: 600,
            failed_logins_before_delay: 3,
            failed_login_delay_step_ms: 1000,
            failed_login_max_delay_ms: 8000,
            failed_logins_before_ban: 20,
            ban_secs: 900,
        }
    }
}

/// `[presence]` (docs/presence-and-delivery.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceConfig {
    /// Offer PNFO and AUTH PRESENCE*; off: PNFO is 510 (Fig 119) and AUTH PRESENCE* 511.
    pub enabled: bool,
    /// Whose presence a user may ask about.
    pub visibility: PresenceVisibility,
    /// Accept `USER anonymous` with an e-mail address as PASS after AUTH PRESENCE (draft 4.6).
    pub anonymous: bool,
    /// Domains whose users anonymous askers may see (`"*"`: every user, those without a
    /// domain included). Empty: anonymous askers learn nothing (every answer is UNKNOWN).
    pub anonymous_domains: Vec<String>,
    /// Longest STATUS or AT text kept, in characters.
    pub max_text_length: usize,
    /// Sessions of one user whose announcements are kept at once; one more is 410.
    pub max_sessions_per_user: usize,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            visibility: PresenceVisibility::SameDomain,
            anonymous: false,
            anonymous_domains: Vec::new(),
            max_text_length: 200,
            max_sessions_per_user: 16,
        }
    }
}

/// `[presence] visibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PresenceVisibility {
    /// Users of the same mail domain (the part after the last `@`); users without a domain
    /// form one group of their own.
    SameDomain,
    /// Every logged-in user sees every other.
    Everyone,
    /// Each user sees only themselves.
    SelfOnly,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `agap_gateway=debug,info`.
    pub filter: String,
    /// How each record is written.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { filter: "info".into(), format: LogFormat::Text }
    }
}

/// `[log] format`: lines for people, or one JSON object per line for log collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Time, level and message on one line (coloured on a terminal).
    Text,
    /// One JSON object per record: `timestamp`, `level`, `fields` (`message` among them), `spans`.
    Json,
}

/// A value of the configuration that must never be shown: `Debug` and `Serialize` (what
/// `--check-config` prints) give `<redacted>`, while it is read from the file or an `AGAP_`
/// variable like any string. A newtype rather than the `secrecy` crate: `secrecy` has no way to
/// serialize a `SecretString` as a placeholder, and zeroizing on drop would buy little here,
/// since the password is copied into each upstream login's `Credentials` anyway.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// What is shown in its place.
    pub const REDACTED: &'static str = "<redacted>";

    /// The value itself, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

/// Only a string is a secret; anything else is refused without repeating it (serde's usual
/// "invalid type: integer `1234`" would print it in the start-up error).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        fn not_a_string<E: serde::de::Error>() -> E {
            E::custom("a secret must be a quoted string (its value is not shown)")
        }

        impl serde::de::Visitor<'_> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a quoted string")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Secret, E> {
                Ok(Secret(value.to_owned()))
            }

            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Secret, E> {
                Err(not_a_string())
            }
        }

        deserializer.deserialize_str(SecretVisitor)
    }
}

/// Redacted too: a serialized configuration is for reading, and reading it back yields the
/// placeholder, never the secret.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

/// A configuration that cannot be read, with the file, key and reason.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl From<TlsConfigError> for ConfigError {
    fn from(error: TlsConfigError) -> Self {
        ConfigError(error.to_string())
    }
}

/// The `AGAP_` variables (after the prefix) that hold secrets, and their keys.
const SECRET_VARIABLES: [(&str, &str); 3] = [
    ("IMAP__MASTER_PASSWORD", "imap.master_password"),
    ("DELIVERY__LMTP_PASSWORD", "delivery.lmtp_password"),
    ("DELIVERY__DAV_PASSWORD", "delivery.dav_password"),
];

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
        let overrides = Env::prefixed("AGAP_")
            .filter(|key| key.as_str().contains("__") && !SECRET_VARIABLES.iter().any(|(name, _)| key == *name))
            .split("__");
        figment = figment.merge(overrides);
        // Secrets are taken as written: the other variables are parsed as values, which would
        // turn a password "0123" into the number 123.
        for (name, key) in SECRET_VARIABLES {
            if let Ok(value) = std::env::var(format!("AGAP_{name}")) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        let config: Config = figment.extract().map_err(|error| ConfigError(error.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The effective configuration as TOML in the shape of config/gateway.example.toml, secrets
    /// shown as `<redacted>` (what `--check-config` prints). Keys without a value are left out.
    pub fn render_toml(&self) -> Result<String, ConfigError> {
        let body = toml::to_string(self).map_err(|error| ConfigError(format!("cannot render as TOML: {error}")))?;
        Ok(format!(
            "# Effective configuration: defaults, then the file, then AGAP_<SECTION>__<KEY> variables.\n\
             # Secrets are shown as \"{}\".\n\n{body}",
            Secret::REDACTED
        ))
    }

    /// Checks what the types cannot: settings that only make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let tls = &self.tls;
        if tls.certificate.is_some() != tls.key.is_some() {
            return Err(ConfigError("[tls] certificate and key go together: set both or neither".into()));
        }
        if tls.files().is_none() && !tls.implicit_listen.is_empty() {
            return Err(ConfigError("[tls] implicit_listen needs [tls] certificate and key".into()));
        }
        // Nobody off this host could ever log in: say so at start-up, not at each AUTH.
        if tls.files().is_none()
            && tls.require_for_auth
            && let Some(address) = self.server.listen.iter().find(|address| !address.ip().to_canonical().is_loopback())
        {
            return Err(ConfigError(format!(
                "[server] listen {address} is not loopback and [tls] require_for_auth refuses AUTH before STLS there, \
                 but no [tls] certificate is set: set certificate and key, or require_for_auth = false"
            )));
        }
        self.dav.base_url()?;
        self.files.checked_url()?;
        self.delivery.checked_lmtp()?;
        if self.delivery.dav_user.is_some() && self.dav.url.is_none() {
            return Err(ConfigError(
                "[delivery] dav_user delivers into collections of [dav] url, which is not set".into(),
            ));
        }
        if self.imap.master_user.is_some() != self.imap.master_password.is_some() {
            return Err(ConfigError("[imap] master_user and master_password go together".into()));
        }
        if self.imap.master_user.is_some() && self.auth.users_file.is_none() {
            return Err(ConfigError(
                "[imap] master_user serves only AUTH MD5/SHA1 logins, which need [auth] users_file".into(),
            ));
        }
        if self.presence.max_text_length == 0 || self.presence.max_text_length > 900 {
            return Err(ConfigError(
                "[presence] max_text_length must be between 1 and 900 (a reply line holds 1024)".into(),
            ));
        }
        if self.presence.max_sessions_per_user == 0 {
            return Err(ConfigError("[presence] max_sessions_per_user must be at least 1".into()));
        }
        for network in &self.limits.banned_networks {
            network
                .parse::<ipnet::IpNet>()
                .map_err(|e| ConfigError(format!("[limits] banned_networks {network:?}: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_matches_the_defaults_it_documents() {
        // In a jail: other tests set AGAP_ variables, which are process-wide.
        figment::Jail::expect_with(|_| {
            let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/gateway.example.toml");
            let config = Config::load(Some(&example)).map_err(|e| e.to_string())?;
            assert_eq!(config.server.max_line_length, 1024);
            assert_eq!(config.imap.port, 143);
            assert_eq!(config.imap.security, UpstreamSecurity::Starttls);
            assert!(config.tls.require_for_auth && config.server.compression && !config.dav.allow_plain);
            assert_eq!(config.limits, LimitsConfig::default());
            assert!(config.auth.users_file.is_none() && config.imap.master_user.is_none());
            assert_eq!(config.presence, PresenceConfig::default());
            Ok(())
        });
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
    fn plain_upstreams_and_lone_tls_files_need_saying_so() {
        let mut config = Config::default();
        assert_eq!(config.imap.security, UpstreamSecurity::Starttls, "upstream TLS by default");
        config.dav.url = Some("http://127.0.0.1:5232/".into());
        assert!(config.validate().expect_err("plain http").to_string().contains("allow_plain"));
        config.dav.allow_plain = true;
        config.validate().expect("explicitly plain");
        config.dav.url = Some("ftp://example.com/".into());
        assert!(config.validate().is_err());
        config.dav.url = Some("https://dav.example.com/".into());
        config.dav.allow_plain = false;
        config.validate().expect("https");
        config.tls.certificate = Some("cert.pem".into());
        assert!(config.validate().expect_err("no key").to_string().contains("key"));
        config.tls.certificate = None;
        config.tls.implicit_listen = vec![SocketAddr::from(([127, 0, 0, 1], 4111))];
        assert!(config.validate().is_err());
    }

    #[test]
    fn a_public_listener_without_a_certificate_is_refused_while_auth_requires_tls() {
        let mut config = Config::default();
        config.server.listen = vec![SocketAddr::from(([0, 0, 0, 0], 4110))];
        assert!(config.validate().expect_err("nobody could log in").to_string().contains("require_for_auth"));
        config.tls.require_for_auth = false;
        config.validate().expect("explicitly allowed");
        config.tls.require_for_auth = true;
        config.tls.certificate = Some("cert.pem".into());
        config.tls.key = Some("key.pem".into());
        config.validate().expect("STLS possible");
        config.server.listen = vec!["[::1]:4110".parse().expect("address")];
        config.tls = TlsConfig::default();
        config.validate().expect("loopback");
    }

    #[test]
    fn master_users_and_banned_networks_are_checked() {
        let mut config = Config::default();
        config.imap.master_user = Some("master".into());
        assert!(config.validate().expect_err("no password").to_string().contains("master_password"));
        config.imap.master_password = Some("secret".into());
        assert!(config.validate().expect_err("no users file").to_string().contains("users_file"));
        config.auth.users_file = Some("users".into());
        config.validate().expect("complete");
        config.limits.banned_networks = vec!["10.0.0.0/8".into(), "10.0.0/8".into()];
        assert!(config.validate().expect_err("bad network").to_string().contains("10.0.0/8"));
    }

    /// A configuration holding every secret there is.
    fn with_secrets() -> Config {
        let mut config = Config::default();
        config.imap.master_user = Some("agapmaster".into());
        config.imap.master_password = Some("m4ster-S3cret".into());
        config.auth.users_file = Some("users".into());
        config.dav.url = Some("https://dav.example.com/".into());
        config
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let config = with_secrets();
        for shown in [format!("{config:?}"), format!("{config:#?}"), format!("{:?}", config.imap)] {
            assert!(!shown.contains("m4ster-S3cret"), "{shown}");
            assert!(shown.contains("<redacted>") && shown.contains("agapmaster"), "{shown}");
        }
        assert_eq!(config.imap.master_password.as_ref().map(Secret::expose), Some("m4ster-S3cret"));
    }

    #[test]
    fn check_config_renders_toml_of_the_example_shape_without_secrets() {
        let config = with_secrets();
        let rendered = config.render_toml().expect("renders");
        assert!(!rendered.contains("m4ster-S3cret"), "{rendered}");
        assert!(rendered.contains("master_password = \"<redacted>\""), "{rendered}");
        for section in [
            "[server]",
            "[store]",
            "[imap]",
            "[folders]",
            "[mail]",
            "[dav]",
            "[files]",
            "[tls]",
            "[auth]",
            "[limits]",
            "[log]",
        ] {
            assert!(rendered.lines().any(|line| line == section), "{section}: {rendered}");
        }
        assert!(rendered.contains("security = \"starttls\"") && rendered.contains("listen = [\"127.0.0.1:4110\"]"));
        // It is configuration: it reads back as the same settings, the secret excepted.
        let read: Config = toml::from_str(&rendered).expect("reads back");
        assert_eq!(read.imap.master_password.as_ref().map(Secret::expose), Some(Secret::REDACTED));
        assert_eq!(toml::to_string(&read).ok(), toml::to_string(&config).ok());
    }

    #[test]
    fn secrets_come_from_the_file_or_the_environment_as_written() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "gateway.toml",
                "[imap]\nmaster_user = \"m\"\nmaster_password = \"from-file\"\n[auth]\nusers_file = \"u\"\n",
            )?;
            let config = Config::load(Some(Path::new("gateway.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.imap.master_password.as_ref().map(Secret::expose), Some("from-file"));
            jail.create_file(
                "gateway.toml",
                "[imap]\nmaster_user = \"m\"\nmaster_password = 97531\n[auth]\nusers_file = \"u\"\n",
            )?;
            let error = Config::load(Some(Path::new("gateway.toml"))).expect_err("not a string").to_string();
            assert!(error.contains("quoted string") && !error.contains("97531"), "{error}");
            jail.create_file("gateway.toml", "[imap]\nmaster_user = \"m\"\n[auth]\nusers_file = \"u\"\n")?;
            for written in ["0123", "true", "1.50", "[a]", "from-env"] {
                jail.set_env("AGAP_IMAP__MASTER_PASSWORD", written);
                let config = Config::load(Some(Path::new("gateway.toml"))).map_err(|e| e.to_string())?;
                assert_eq!(config.imap.master_password.as_ref().map(Secret::expose), Some(written));
            }
            Ok(())
        });
    }

    #[test]
    fn a_dav_url_with_credentials_is_refused_without_repeating_them() {
        let mut config = Config::default();
        config.dav.url = Some("http://admin:hunter2@127.0.0.1:5232/".into());
        config.dav.allow_plain = true;
        let error = config.validate().expect_err("credentials in the url").to_string();
        assert!(error.contains("user name or password") && !error.contains("hunter2"), "{error}");
    }

    #[test]
    fn the_files_url_is_checked_like_the_dav_url_and_may_name_the_user() {
        let mut config = Config::default();
        assert_eq!(config.files.checked_url().expect("none"), None);
        config.files.url = Some("http://127.0.0.1:8090/files/{user}/".into());
        assert!(config.validate().expect_err("plain http").to_string().contains("[files] allow_plain"));
        config.files.allow_plain = true;
        config.validate().expect("a template");
        config.files.url = Some("https://cloud.example/remote.php/dav/".into());
        config.files.allow_plain = false;
        config.validate().expect("a URL to discover from");
        config.files.url = Some("https://{user}.example/files/".into());
        assert!(config.validate().expect_err("user in the host").to_string().contains("only in the path"));
        config.files.url = Some("https://admin:hunter2@cloud.example/{user}/".into());
        let error = config.validate().expect_err("credentials").to_string();
        assert!(error.contains("user name or password") && !error.contains("hunter2"), "{error}");
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
