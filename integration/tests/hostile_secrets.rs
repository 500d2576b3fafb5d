//! Secrets and per-user resources under attack (issue 12): no password in a trace-level log or
//! in `--check-config`, no pool left behind by failed logins, idle pools dropped, and a login
//! stuck upstream does not hold the next one of the same user beyond the command timeout.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agap_adapter_api::mail::MailBackend;
use agap_adapter_api::{AdapterErrorKind, Credentials};
use agap_adapter_imap::{ImapBackend, ImapSettings};
use base64::Engine;
use md5::{Digest, Md5};

use crate::harness::{
    Client, FILE_ONLY_PASSWORD, MASTER_PASSWORD, MASTER_USER, TestGateway, mail_server, password, test_config,
    users_file,
};

/// The gateway binary with `config` (TOML) and `environment`, its standard output (the log)
/// collected as it runs.
struct GatewayProcess {
    child: Child,
    address: SocketAddr,
    output: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    fn start(config: &str, environment: &[(&str, &str)]) -> GatewayProcess {
        let dir = tempfile::tempdir().expect("directory");
        let path = dir.path().join("gateway.toml");
        let store = dir.path().join("store.db");
        std::fs::write(&path, format!("{config}\n[store]\nurl = \"sqlite://{}\"\n", store.display())).expect("config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_agap-gateway"))
            .arg("--config")
            .arg(&path)
            .env_remove("RUST_LOG")
            .envs(environment.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the gateway binary");
        let stdout = child.stdout.take().expect("stdout");
        let output = Arc::new(Mutex::new(String::new()));
        let (ready, listening) = std::sync::mpsc::channel();
        let collected = Arc::clone(&output);
        // Drained all along: at trace level the gateway would block on a full pipe.
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("agap-gateway listening on ") {
                    let _ = ready.send(address.parse::<SocketAddr>().expect("an address"));
                }
                let mut output = collected.lock().expect("log");
                output.push_str(&line);
                output.push('\n');
            }
        });
        let address = listening.recv_timeout(Duration::from_secs(30)).expect("the gateway listens");
        GatewayProcess { child, address, output, reader: Some(reader), _dir: dir }
    }

    /// Stops the gateway; everything it wrote.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("reader");
        }
        self.output.lock().expect("log").clone()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn md5_hex(prefix: &str, password: &str) -> String {
    Md5::new().chain_update(prefix).chain_update(password).finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_trace_level_log_of_logins_holds_no_password() {
    // The operator asks for everything, async-imap's own targets by name included.
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n[imap]\nport = {}\nsecurity = \"plain\"\nmaster_user = \"{MASTER_USER}\"\n\
         [auth]\nusers_file = \"{}\"\n[log]\nfilter = \"trace\"\n",
        mail_server().port,
        users_file().display()
    );
    let gateway = GatewayProcess::start(
        &config,
        &[("AGAP_IMAP__MASTER_PASSWORD", MASTER_PASSWORD), ("RUST_LOG", "trace,async_imap=trace,imap_proto=trace")],
    );
    // IMAP LOGIN with the user's own password.
    let mut client = Client::connect(gateway.address).await.0;
    client.login("user14").await;
    client.expect("STAT", 200).await;
    client.expect("QUIT", 200).await;
    // SASL PLAIN as the master user, after AUTH MD5 with the users file's password.
    let mut client = Client::connect(gateway.address).await.0;
    let prefix = client.expect("AUTH MD5", 200).await.lines[0].clone();
    client.expect("USER user59", 200).await;
    client.expect(&format!("HASH {}", md5_hex(&prefix, FILE_ONLY_PASSWORD)), 200).await;
    client.expect("STAT", 200).await;
    client.expect("QUIT", 200).await;
    let log = gateway.stop();

    let sasl = format!("user59\0{MASTER_USER}\0{MASTER_PASSWORD}");
    let sasl_base64 = base64::engine::general_purpose::STANDARD.encode(sasl);
    for secret in [&sasl_base64, password("user14").as_str(), MASTER_PASSWORD, FILE_ONLY_PASSWORD] {
        assert!(!log.contains(secret), "{secret:?} reached the log");
    }
    // The log was really this detailed (so the check above could fail: without the cap,
    // async-imap's trace lines hold `LOGIN "user14" "pass-user14"` and the SASL response).
    let debug_lines = log.lines().filter(|line| line.contains("DEBUG")).count();
    assert!(debug_lines > 10 && log.contains("logged in"), "{debug_lines} debug lines:\n{log}");
}

#[tokio::test]
async fn check_config_prints_toml_without_the_secret() {
    let dir = tempfile::tempdir().expect("directory");
    let path = dir.path().join("gateway.toml");
    let file_secret = "file-S3cret-4711";
    std::fs::write(
        &path,
        format!("[imap]\nmaster_user = \"m\"\nmaster_password = \"{file_secret}\"\n[auth]\nusers_file = \"users\"\n"),
    )
    .expect("config");
    let env_secret = "env-S3cret-0815";
    for environment in [None, Some(env_secret)] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_agap-gateway"));
        command.arg("--config").arg(&path).arg("--check-config");
        if let Some(secret) = environment {
            command.env("AGAP_IMAP__MASTER_PASSWORD", secret);
        }
        let output = command.output().expect("the gateway binary");
        assert!(output.status.success(), "{output:?}");
        let printed = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(!printed.contains(file_secret) && !printed.contains(env_secret), "{printed}");
        assert!(printed.contains("\n[imap]\n") && printed.contains("master_password = \"<redacted>\""), "{printed}");
        // TOML, not a Debug struct: it reads back as a configuration.
        let read: agap_gateway::config::Config = toml::from_str(&printed).expect("TOML");
        assert_eq!(read.imap.master_user.as_deref(), Some("m"));
        assert_eq!(read.auth.users_file.as_deref(), Some(Path::new("users")));
    }
}

/// The adapter on the pair's IMAP server with `adjust`ed settings.
fn imap_backend(adjust: impl FnOnce(&mut ImapSettings)) -> ImapBackend {
    let dir = tempfile::tempdir().expect("directory");
    let mut settings = test_config(dir.path()).imap.settings().expect("settings");
    adjust(&mut settings);
    ImapBackend::new(settings)
}

#[tokio::test]
async fn failed_logins_with_distinct_names_leave_no_pool() {
    let backend = Arc::new(imap_backend(|_| {}));
    // Dovecot answers a failed login after 2 s: many at once, as an attacker would send them.
    let attempts = (0..500).map(|i| {
        let backend = Arc::clone(&backend);
        async move {
            let credentials = Credentials::new(format!("nobody-{i}"), "guess");
            backend.login(&credentials).await.map(|_| ()).map_err(|error| error.kind())
        }
    });
    let mut results = Vec::new();
    let mut attempts = attempts.peekable();
    while attempts.peek().is_some() {
        let batch: Vec<_> = attempts.by_ref().take(50).collect();
        results.extend(futures_util::future::join_all(batch).await);
    }
    assert!(results.iter().all(|result| *result == Err(AdapterErrorKind::AuthenticationFailed)), "{results:?}");
    assert_eq!(backend.pooled_users(), 0, "a failed login left a pool");
    // A real user's wrong password too, and then the right one.
    let wrong = backend.login(&Credentials::new("user17", "guess")).await.map(|_| ()).map_err(|e| e.kind());
    assert_eq!(wrong, Err(AdapterErrorKind::AuthenticationFailed));
    assert_eq!(backend.pooled_users(), 0);
    let _account = backend.login(&Credentials::new("user17", password("user17"))).await.expect("login");
    assert_eq!(backend.pooled_users(), 1);
}

#[tokio::test]
async fn a_user_who_went_idle_loses_the_pool() {
    let backend = imap_backend(|settings| {
        settings.idle_connection_timeout = Duration::from_secs(1);
        settings.login_cache_ttl = Duration::from_secs(1);
    });
    let account = backend.login(&Credentials::new("user18", password("user18"))).await.expect("login");
    assert_eq!(backend.pooled_users(), 1);
    // Past both timeouts, but a session still holds the account: the pool stays.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(backend.pooled_users(), 1, "a pool in use was dropped");
    drop(account);
    let deadline = Instant::now() + Duration::from_secs(5);
    while backend.pooled_users() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(backend.pooled_users(), 0, "the idle user's pool was kept");
    // And the user logs in again as before.
    let _account = backend.login(&Credentials::new("user18", password("user18"))).await.expect("login again");
}

#[tokio::test]
async fn a_login_stuck_upstream_holds_the_next_one_only_for_the_command_timeout() {
    // An "IMAP server" that accepts and never greets.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listener");
    let port = silent.local_addr().expect("address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let gateway = TestGateway::start_with(|config| {
        config.imap.port = port;
        config.imap.connect_timeout_secs = 20;
        config.imap.command_timeout_secs = 1;
    })
    .await;
    let mut first = gateway.client().await;
    first.expect("AUTH PLAIN", 200).await;
    first.expect("USER user14", 200).await;
    first.send("PASS whatever").await; // waits for the greeting, holding the user's login gate
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = gateway.client().await;
    second.expect("AUTH PLAIN", 200).await;
    second.expect("USER user14", 200).await;
    // Without a bound it would wait for the first login's 20 s, then for a 20 s of its own.
    let reply = tokio::time::timeout(Duration::from_secs(5), second.command("PASS whatever"))
        .await
        .expect("an answer within the command timeout, not behind the stuck login");
    assert_eq!(reply.code, 410, "{reply:?}");
    assert!(reply.text.contains("another login"), "{reply:?}");
}
