//! Real backends and a gateway for the integration tests.
//!
//! `AGAP_TEST_BACKENDS` selects the backend pair: `dovecot-radicale` (the default when unset),
//! `cyrus` (Cyrus IMAP with Cyrus's own CalDAV/CardDAV), `dovecot-xandikos` or `cyrus-xandikos`.
//! Any other value fails every test that starts a backend or a gateway, with the list of pairs
//! (never a silent fallback to the default). The pair's mail server and DAV server are started
//! once per test binary from integration/backends/ on free loopback ports, each with its own
//! directory; they stop when this process exits, because each script watches its stdin, which
//! only this process holds. A backend that cannot start fails the tests with the reason (never
//! a silent skip). The WebDAV file server of FILE folders (`file_server()`, Apache mod_dav) is the
//! same for every pair. Tests about Dovecot itself (its TLS, a Dovecot-only behaviour) ask for
//! `dovecot()`, which is the pair's mail server when that is Dovecot and a Dovecot of its own
//! otherwise. Each test starts its own gateway on port 0 with its own store, and uses its own
//! account so that tests can run in parallel.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use agap_gateway::config::Config;
use agap_gateway::server::RunningGateway;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Bound on every wait of a test.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A backend process and what it needs to stay alive.
pub struct Backend {
    pub port: u16,
    /// The CalDAV/CardDAV port of a server that also speaks IMAP (Cyrus's httpd).
    pub dav_port: Option<u16>,
    /// The LMTP port of a mail server started with one (`AGAP_LMTP_PORT`).
    pub lmtp_port: Option<u16>,
    _dir: tempfile::TempDir,
    _process: Mutex<Child>,
}

impl Backend {
    /// Where the server keeps everything (for Radicale, `collections/` is its storage).
    #[allow(dead_code)] // used by the benchmark only
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// The port that answers HTTP: the DAV port of a mail server that has one, else `port`.
    fn http_port(&self) -> u16 {
        self.dav_port.unwrap_or(self.port)
    }
}

/// A private backend stops before its directory goes: fields drop in declaration order, so
/// without this the directory would be deleted first and a Cyrus master whose directory is gone
/// keeps running (and spinning) after the script's cleanup could not reach it.
impl Drop for Backend {
    fn drop(&mut self) {
        let child = self._process.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        drop(child.stdin.take()); // EOF: the script stops its server and exits
        let deadline = std::time::Instant::now() + TIMEOUT;
        while std::time::Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The IMAP server of a backend pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailServer {
    Dovecot,
    Cyrus,
}

/// The CalDAV/CardDAV server of a backend pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DavServer {
    Radicale,
    /// Cyrus's httpd, on the DAV port of the pair's Cyrus IMAP.
    Cyrus,
    Xandikos,
}

/// The servers the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendPair {
    pub mail: MailServer,
    pub dav: DavServer,
    /// Whether the mail server lets a user write the gateway's own server annotations, where the
    /// gateway then keeps its folder records (docs/backends.md). Dovecot does; Cyrus only with
    /// `annotation_allow_undefined: yes`, which the `cyrus` pair sets and `cyrus-xandikos` does
    /// not, so that both places of the records are tested.
    pub records_upstream: bool,
}

/// The environment variable that selects the pair.
pub const BACKENDS_VARIABLE: &str = "AGAP_TEST_BACKENDS";

/// Every pair by its name in `AGAP_TEST_BACKENDS`; the first is the default.
const PAIRS: [(&str, BackendPair); 4] = [
    ("dovecot-radicale", BackendPair { mail: MailServer::Dovecot, dav: DavServer::Radicale, records_upstream: true }),
    ("cyrus", BackendPair { mail: MailServer::Cyrus, dav: DavServer::Cyrus, records_upstream: true }),
    ("dovecot-xandikos", BackendPair { mail: MailServer::Dovecot, dav: DavServer::Xandikos, records_upstream: true }),
    ("cyrus-xandikos", BackendPair { mail: MailServer::Cyrus, dav: DavServer::Xandikos, records_upstream: false }),
];

/// The pair named by `value` (`None`: the variable is unset).
fn parse_backend_pair(value: Option<&str>) -> Result<BackendPair, String> {
    let Some(name) = value else { return Ok(PAIRS[0].1) };
    PAIRS.iter().find(|(known, _)| *known == name).map(|(_, pair)| *pair).ok_or_else(|| {
        let names: Vec<&str> = PAIRS.iter().map(|(known, _)| *known).collect();
        format!(
            "{BACKENDS_VARIABLE}={name:?} names no backend pair; use one of {} (unset: {})",
            names.join(", "),
            names[0]
        )
    })
}

#[test]
fn every_pair_name_parses_and_an_unknown_one_is_refused() {
    assert_eq!(parse_backend_pair(None), Ok(PAIRS[0].1));
    for (name, pair) in PAIRS {
        assert_eq!(parse_backend_pair(Some(name)), Ok(pair));
    }
    for unknown in ["", "dovecot", "Cyrus", "cyrus-radicale"] {
        let message = parse_backend_pair(Some(unknown)).expect_err(unknown);
        assert!(message.contains("dovecot-radicale, cyrus, dovecot-xandikos, cyrus-xandikos"), "{message}");
    }
}

/// The selected pair's mail server as the exception lists name it (`dovecot`, `cyrus`).
pub fn mail_server_name() -> &'static str {
    match backend_pair().mail {
        MailServer::Dovecot => "dovecot",
        MailServer::Cyrus => "cyrus",
    }
}

/// Whether the selected pair's mail server keeps the gateway's folder records (else the gateway's
/// store does, and losing the store loses folder types and filter definitions, never data).
pub fn records_upstream() -> bool {
    backend_pair().records_upstream
}

/// The pair selected by `AGAP_TEST_BACKENDS`. Panics on an unknown value, in every test that
/// asks, so that a typo cannot run the default pair under another name.
pub fn backend_pair() -> BackendPair {
    static PAIR: OnceLock<Result<BackendPair, String>> = OnceLock::new();
    let selected = PAIR.get_or_init(|| match std::env::var(BACKENDS_VARIABLE) {
        Ok(value) => parse_backend_pair(Some(&value)),
        Err(std::env::VarError::NotPresent) => parse_backend_pair(None),
        Err(std::env::VarError::NotUnicode(value)) => Err(format!("{BACKENDS_VARIABLE}={value:?} is not UTF-8")),
    });
    selected.clone().unwrap_or_else(|message| panic!("{message}"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("local address").port()
}

/// Backends live in a never-dropped static, so their directories outlive the test process; the
/// next run removes those older than an hour (no test run lasts that long).
fn remove_stale_backend_dirs() {
    let Ok(entries) = std::fs::read_dir("/tmp") else { return };
    for entry in entries.flatten() {
        let is_ours = entry.file_name().to_string_lossy().starts_with(BACKEND_DIR_PREFIX);
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if is_ours && age.is_some_and(|age| age > Duration::from_secs(3600)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

const BACKEND_DIR_PREFIX: &str = "agap-test-";

fn start_backend(script: &str) -> Backend {
    start_backend_with(script, &[])
}

fn start_backend_with(script: &str, environment: &[(&str, String)]) -> Backend {
    backend_pair(); // an unknown pair fails before anything starts
    remove_stale_backend_dirs();
    // Short paths: Dovecot's and Cyrus's socket paths under the directory must fit in sun_path.
    let dir = tempfile::Builder::new().prefix(BACKEND_DIR_PREFIX).tempdir_in("/tmp").expect("temporary directory");
    let port = free_port();
    let mut child = Command::new("bash")
        .arg(repo_root().join("integration/backends").join(script))
        .arg("run")
        .arg(dir.path())
        .arg(port.to_string())
        .envs(environment.iter().map(|(key, value)| (*key, value.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.by_ref().map_while(Result::ok).find(|line| line.starts_with("READY"));
    let Some(ready) = ready else {
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
        }
        panic!("{script} did not start (is the backend installed? run integration/setup.sh):\n{stderr}");
    };
    // Cyrus's line names its DAV port too (`READY <port> <dav_port>`): it confirms the one asked for.
    let dav_port = ready
        .split_whitespace()
        .nth(2)
        .map(|field| field.parse().unwrap_or_else(|_| panic!("{script}: no port in {ready:?}")));
    let asked = environment.iter().find(|(key, _)| *key == "AGAP_CYRUS_DAV_PORT").map(|(_, value)| value.as_str());
    assert_eq!(dav_port.map(|port: u16| port.to_string()).as_deref(), asked, "{script}: READY line {ready:?}");
    let lmtp_port = environment
        .iter()
        .find(|(key, _)| *key == "AGAP_LMTP_PORT")
        .map(|(_, value)| value.parse().expect("the LMTP port asked for"));
    Backend { port, dav_port, lmtp_port, _dir: dir, _process: Mutex::new(child) }
}

/// A Cyrus (IMAP; with `dav`, Cyrus's CalDAV/CardDAV httpd on a second port); with
/// `keeps_records`, it lets users write the gateway's annotations.
fn start_cyrus(dav: bool, keeps_records: bool, lmtp: bool) -> Backend {
    let undefined_annotations = if keeps_records { "yes" } else { "no" };
    let mut environment = vec![("AGAP_CYRUS_UNDEFINED_ANNOTATIONS", undefined_annotations.to_owned())];
    if lmtp {
        environment.push(("AGAP_LMTP_PORT", free_port().to_string()));
    }
    if dav {
        environment.push(("AGAP_CYRUS_DAV_PORT", free_port().to_string()));
    }
    start_backend_with("cyrus.sh", &environment)
}

/// A mail server of the pair's kind, of its own (without DAV), for a test that stops it or
/// counts what it holds; it stops when dropped.
pub fn private_mail_server() -> Backend {
    private_mail_server_with(backend_pair().records_upstream)
}

/// A mail server of the pair's kind, of its own, that keeps the gateway's folder records, for the
/// tests of those records: on every pair, even one whose Cyrus keeps them in the store.
pub fn private_mail_server_keeping_records() -> Backend {
    private_mail_server_with(true)
}

fn private_mail_server_with(keeps_records: bool) -> Backend {
    match backend_pair().mail {
        MailServer::Dovecot => start_backend("dovecot.sh"),
        MailServer::Cyrus => start_cyrus(false, keeps_records, false),
    }
}

/// A Dovecot of its own with TLS: STARTTLS on `port`, IMAPS on the second port returned, with
/// this PEM certificate and key.
pub fn private_dovecot_tls(certificate_pem: &str, key_pem: &str) -> (Backend, u16) {
    let files = tempfile::tempdir().expect("directory for the TLS files");
    let certificate = files.path().join("cert.pem");
    let key = files.path().join("key.pem");
    std::fs::write(&certificate, certificate_pem).expect("write the certificate");
    std::fs::write(&key, key_pem).expect("write the key");
    let imaps_port = free_port();
    let backend = start_backend_with(
        "dovecot.sh",
        &[
            ("AGAP_DOVECOT_TLS_CERT", certificate.display().to_string()),
            ("AGAP_DOVECOT_TLS_KEY", key.display().to_string()),
            ("AGAP_DOVECOT_IMAPS_PORT", imaps_port.to_string()),
        ],
    );
    (backend, imaps_port)
}

/// `[delivery]` for the pair's mail server: its LMTP service (as Cyrus's admin, whom Cyrus's
/// lmtpd on TCP asks for).
#[allow(dead_code)] // not used by the benchmark
pub fn with_delivery(config: &mut Config) {
    let port = mail_server().lmtp_port.expect("the shared mail server has LMTP");
    config.delivery.lmtp = Some(format!("127.0.0.1:{port}"));
    if backend_pair().mail == MailServer::Cyrus {
        config.delivery.lmtp_user = Some("cyrus-admin".into());
        config.delivery.lmtp_password = Some("cyrus-admin-pass".into());
    }
}

/// `[dav]` and `[delivery]` with the DAV service account (config/accounts/dav-service.htpasswd)
/// and the principal of a user on the pair's DAV server; on Cyrus DAV without the service
/// account, whose model of other users' calendars the gateway does not serve (docs/backends.md).
#[allow(dead_code)] // not used by the benchmark
pub fn with_dav_delivery(config: &mut Config) {
    with_dav(config);
    with_delivery(config);
    if backend_pair().dav == DavServer::Cyrus {
        return;
    }
    config.delivery.dav_user = Some("agap-delivery".into());
    config.delivery.dav_password = Some("agap-delivery-pass".into());
    config.delivery.dav_principal = Some("/{user}/".into());
}

/// The IMAP server of the selected pair, shared by this test binary. A Cyrus that is also the
/// pair's DAV server has its DAV port.
pub fn mail_server() -> &'static Backend {
    static MAIL: OnceLock<Backend> = OnceLock::new();
    MAIL.get_or_init(|| {
        let pair = backend_pair();
        match pair.mail {
            MailServer::Dovecot => start_backend_with("dovecot.sh", &[("AGAP_LMTP_PORT", free_port().to_string())]),
            MailServer::Cyrus => start_cyrus(pair.dav == DavServer::Cyrus, pair.records_upstream, true),
        }
    })
}

/// The CalDAV/CardDAV server of the selected pair, shared by this test binary (for Cyrus DAV,
/// the pair's Cyrus: its `dav_port` answers HTTP).
pub fn dav_server() -> &'static Backend {
    static DAV: OnceLock<Backend> = OnceLock::new();
    match backend_pair().dav {
        DavServer::Cyrus => mail_server(),
        DavServer::Radicale => DAV.get_or_init(|| start_backend("radicale.sh")),
        DavServer::Xandikos => DAV.get_or_init(|| start_backend("xandikos.sh")),
    }
}

/// The root URL of the pair's DAV server, from which the gateway discovers principals and homes
/// (RFC 6764: `/.well-known/caldav` and `/.well-known/carddav`, then the root itself). All three
/// servers answer there: Radicale at the root, Cyrus by a redirect to `/dav/calendars` (or
/// `/dav/addressbooks`), Xandikos (behind nginx) by a redirect to `/`.
pub fn dav_root() -> url::Url {
    url::Url::parse(&format!("http://127.0.0.1:{}/", dav_server().http_port())).expect("the DAV root URL")
}

/// The WebDAV file server (Apache mod_dav, integration/backends/files.sh), shared by this test
/// binary: the same for every pair, since FILE folders live apart from mail and calendars. Each
/// test account has its own directory there, open to that account only.
#[allow(dead_code)] // not used by the benchmark
pub fn file_server() -> &'static Backend {
    static FILES: OnceLock<Backend> = OnceLock::new();
    FILES.get_or_init(|| start_backend("files.sh"))
}

/// The `[files] url` of the file server: a template naming each user's directory.
#[allow(dead_code)] // not used by the benchmark
pub fn files_url() -> String {
    format!("http://127.0.0.1:{}/files/{{user}}/", file_server().port)
}

/// The URL of `user`'s directory on the file server, as another WebDAV client reaches it.
#[allow(dead_code)] // not used by the benchmark
pub fn files_home(user: &str) -> url::Url {
    url::Url::parse(&files_url().replace("{user}", user)).expect("the home URL")
}

/// Points a configuration at the file server too.
#[allow(dead_code)] // not used by the benchmark, nor by the tests until FILE folders are wired in
pub fn with_files(config: &mut Config) {
    config.files.url = Some(files_url());
    // The test file server listens on loopback without TLS: say so.
    config.files.allow_plain = true;
}

/// A Dovecot for the tests of Dovecot's own behaviour: the pair's mail server when it is
/// Dovecot, otherwise one of its own, shared by this test binary.
pub fn dovecot() -> &'static Backend {
    static DOVECOT: OnceLock<Backend> = OnceLock::new();
    match backend_pair().mail {
        MailServer::Dovecot => mail_server(),
        MailServer::Cyrus => DOVECOT.get_or_init(|| start_backend("dovecot.sh")),
    }
}

/// The password of a test account (config/accounts/users.passwd).
pub fn password(user: &str) -> String {
    match user {
        "demo" => "demo".into(),
        "alice" | "bob" => format!("{user}-pass"),
        numbered => format!("pass-{numbered}"),
    }
}

// One walk of the shared corpus for unit and integration tests alike.
#[path = "../../src/format/corpus.rs"]
mod corpus;
pub use corpus::*;

/// A configuration pointing at the pair's IMAP server, listening on a free port.
pub fn test_config(store_dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
    config.server.name = "test-gateway".into();
    config.store.url = format!("sqlite://{}", store_dir.join("gateway.db").display());
    config.imap.port = mail_server().port;
    // The test IMAP servers listen on loopback without TLS: say so (the default is STARTTLS).
    config.imap.security = agap_gateway::config::UpstreamSecurity::Plain;
    config.imap.command_timeout_secs = 20;
    config
}

/// Points a configuration at the pair's DAV server too.
pub fn with_dav(config: &mut Config) {
    config.dav.url = Some(dav_root().to_string());
    // The test DAV servers listen on loopback without TLS: say so.
    config.dav.allow_plain = true;
}

/// The master user of the test IMAP servers (config/accounts/master-users.passwd): a master
/// passdb on Dovecot, a `proxyservers` entry on Cyrus; both log in with SASL PLAIN.
pub const MASTER_USER: &str = "agapmaster";
/// Its password.
pub const MASTER_PASSWORD: &str = "agapmaster-pass";

/// A users file for AUTH MD5/SHA1: user56..user58 with their upstream passwords, user59 with a
/// password the upstream servers do not know (only a master user can log it in upstream).
pub fn users_file() -> &'static Path {
    static FILE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = FILE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("directory for the users file");
        let path = dir.path().join("agap-users");
        let mut text = String::from("# user:password\n");
        for user in ["user56", "user57", "user58"] {
            text.push_str(&format!("{user}:{}\n", password(user)));
        }
        text.push_str(&format!("user59:{}\n", FILE_ONLY_PASSWORD));
        std::fs::write(&path, text).expect("write the users file");
        (dir, path)
    });
    path
}

/// user59's password in `users_file`.
pub const FILE_ONLY_PASSWORD: &str = "only-in-the-users-file";

/// Offers AUTH MD5 and SHA1 from `users_file`, logging in to IMAP as the master user if `master`.
pub fn with_hashed_logins(config: &mut Config, master: bool) {
    config.auth.users_file = Some(users_file().to_path_buf());
    if master {
        config.imap.master_user = Some(MASTER_USER.into());
        config.imap.master_password = Some(MASTER_PASSWORD.into());
    }
}

/// A running gateway with its temporary store.
pub struct TestGateway {
    pub running: RunningGateway,
    _store_dir: tempfile::TempDir,
}

impl TestGateway {
    /// Starts a gateway on the pair's IMAP server.
    pub async fn start() -> TestGateway {
        Self::start_with(|_| {}).await
    }

    /// Starts a gateway on the pair's IMAP server and its DAV server (calendars and contacts).
    pub async fn start_with_dav() -> TestGateway {
        Self::start_with(with_dav).await
    }

    /// Starts a gateway after `adjust` changed its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestGateway {
        Self::start_with_clock(adjust, agap_gateway::clock::Clock::system()).await
    }

    /// As `start_with`, with the clock of presence times given (a manual one, which the test
    /// advances instead of sleeping).
    pub async fn start_with_clock(adjust: impl FnOnce(&mut Config), clock: agap_gateway::clock::Clock) -> TestGateway {
        let store_dir = tempfile::tempdir().expect("store directory");
        let mut config = test_config(store_dir.path());
        adjust(&mut config);
        let running = agap_gateway::server::start_with_clock(config, clock).await.expect("gateway starts");
        TestGateway { running, _store_dir: store_dir }
    }

    pub fn address(&self) -> SocketAddr {
        self.running.addresses[0]
    }

    /// A connected client that has read the welcome line.
    pub async fn client(&self) -> Client {
        let (client, welcome) = Client::connect(self.address()).await;
        assert!(welcome.starts_with("200 "), "welcome: {welcome}");
        client
    }

    /// A client logged in as `user`.
    pub async fn login(&self, user: &str) -> Client {
        let mut client = self.client().await;
        client.login(user).await;
        client
    }
}

/// Whether a new connection is welcomed with 200 within about a second: a freed connection
/// slot is released when its task ends, a moment after the client saw the close.
#[allow(dead_code)] // not used by the benchmark
pub async fn welcomed_again(address: SocketAddr) -> bool {
    for _ in 0..50 {
        let (_client, welcome) = Client::connect(address).await;
        if welcome.starts_with("200 ") {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// One reply as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
    /// Data lines without their leading dot.
    pub lines: Vec<String>,
}

/// A minimal AGAP client.
pub struct Client {
    reader: AsyncBufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// How long a line may take (TIMEOUT unless a slow step asks for more).
    patience: Duration,
}

impl Client {
    /// Connects and returns the welcome line.
    pub async fn connect(address: SocketAddr) -> (Client, String) {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(address))
            .await
            .expect("connect in time")
            .expect("connect");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let (reader, writer) = stream.into_split();
        let mut client = Client { reader: AsyncBufReader::new(reader), writer, patience: TIMEOUT };
        let welcome = client.read_line().await.expect("a welcome line");
        (client, welcome)
    }

    /// Waits up to `patience` for each line from now on.
    #[allow(dead_code)] // used by the benchmark only
    pub fn set_patience(&mut self, patience: Duration) {
        self.patience = patience;
    }

    /// Sends raw bytes.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// Sends one line (LF appended).
    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes()).await;
    }

    /// One line from the server without its line end; `None` at end of stream.
    pub async fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = tokio::time::timeout(self.patience, self.reader.read_line(&mut line)).await.expect("a line in time");
        match read.expect("read") {
            0 => None,
            _ => Some(line.trim_end_matches('\n').trim_end_matches('\r').to_owned()),
        }
    }

    /// Reads data lines up to and including the code line, all within the patience (one timer
    /// for the reply, not one per line: a FIND of 10,000 UIDs is 10,000 lines, and the
    /// benchmark's client should cost what a plain IMAP client reading one line does).
    pub async fn read_reply(&mut self) -> Reply {
        let patience = self.patience;
        let read = async {
            let mut lines = Vec::new();
            let mut line = Vec::with_capacity(128);
            loop {
                line.clear();
                let read = self.reader.read_until(b'\n', &mut line).await.expect("read");
                assert!(read > 0, "the server closed the connection mid-reply");
                let text = std::str::from_utf8(&line).expect("a reply in UTF-8");
                let text = text.trim_end_matches('\n').trim_end_matches('\r');
                if let Some(data) = text.strip_prefix('.') {
                    lines.push(data.to_owned());
                    continue;
                }
                let code =
                    text.get(..3).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("not a reply line: {text:?}"));
                let text = text.get(4..).unwrap_or("").to_owned();
                return Reply { code, text, lines };
            }
        };
        tokio::time::timeout(patience, read).await.expect("a whole reply in time")
    }

    /// Reads a reply without keeping it: its code and the bytes of its data lines (the
    /// benchmark's client, which should cost about what an IMAP client reading a literal does).
    #[allow(dead_code)] // used by the benchmark only
    pub async fn skip_reply(&mut self) -> (u16, usize) {
        let mut line = Vec::with_capacity(1024);
        let mut data = 0;
        let read = async {
            loop {
                line.clear();
                let read = self.reader.read_until(b'\n', &mut line).await.expect("read");
                assert!(read > 0, "the server closed the connection mid-reply");
                if line.first() == Some(&b'.') {
                    data += line.len();
                    continue;
                }
                let code = std::str::from_utf8(&line[..3.min(line.len())]).ok().and_then(|c| c.parse().ok());
                return code.unwrap_or_else(|| panic!("not a reply line: {:?}", String::from_utf8_lossy(&line)));
            }
        };
        let code = tokio::time::timeout(self.patience, read).await.expect("a reply in time");
        (code, data)
    }

    /// STOR with these content lines; the final reply.
    pub async fn stor(&mut self, lines: &[&str]) -> Reply {
        self.expect("STOR", 110).await;
        for line in lines {
            self.send(line).await;
        }
        self.command("").await
    }

    /// A filter command (FIND, FDEL, "FTAG + SEEN", ...) with this filter; the final reply.
    pub async fn filtered(&mut self, command: &str, filter: &[&str]) -> Reply {
        self.expect(command, 110).await;
        for line in filter {
            self.send(line).await;
        }
        self.command("").await
    }

    /// Sends a command and reads its reply.
    pub async fn command(&mut self, line: &str) -> Reply {
        self.send(line).await;
        self.read_reply().await
    }

    /// Sends a command and asserts its reply code.
    pub async fn expect(&mut self, line: &str, code: u16) -> Reply {
        let reply = self.command(line).await;
        assert_eq!(reply.code, code, "{line:?} answered {reply:?}");
        reply
    }

    /// AUTH PLAIN, USER, PASS with the account's test password.
    pub async fn login(&mut self, user: &str) {
        self.expect("AUTH PLAIN", 200).await;
        self.expect(&format!("USER {user}"), 200).await;
        self.expect(&format!("PASS {}", password(user)), 200).await;
    }

    /// Whether the server closed the connection (reads until end of stream).
    pub async fn is_closed(&mut self) -> bool {
        self.read_line().await.is_none()
    }
}

/// A direct IMAP session on a test IMAP server, as another mail client would have.
pub type ImapSession = async_imap::Session<TcpStream>;

/// Logs in to the pair's IMAP server directly.
pub async fn imap(user: &str) -> ImapSession {
    imap_on(mail_server().port, user).await
}

/// Logs in directly to the IMAP server on `port`.
pub async fn imap_on(port: u16, user: &str) -> ImapSession {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the IMAP server");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.expect("greeting").expect("greeting");
    client.login(user, password(user)).await.map_err(|(e, _)| e).expect("IMAP login")
}

/// The mailbox names another IMAP client sees (raw, modified UTF-7).
pub async fn imap_mailboxes(session: &mut ImapSession) -> Vec<String> {
    use futures_util::TryStreamExt;
    let names: Vec<_> =
        session.list(Some(""), Some("*")).await.expect("LIST").try_collect().await.expect("LIST results");
    let mut names: Vec<String> = names.iter().map(|name| name.name().to_owned()).collect();
    names.sort();
    names
}

/// Appends a small message directly over IMAP.
pub async fn imap_append(session: &mut ImapSession, mailbox: &str, subject: &str, seen: bool) {
    let message =
        format!("From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\nBody of {subject}\r\n");
    session
        .append(mailbox, if seen { Some("(\\Seen)") } else { None }, None, message.as_bytes())
        .await
        .expect("APPEND");
}

/// Appends raw message bytes directly over IMAP.
pub async fn imap_append_raw(session: &mut ImapSession, mailbox: &str, message: &[u8]) {
    session.append(mailbox, None, None, message).await.expect("APPEND");
}
