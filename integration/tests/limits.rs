//! The limits that keep the gateway up (README "Limits and authentication"): connections per
//! client address (welcome 410), banned networks and failed-login bans (welcome 531, draft 4.4,
//! 5.5.6, 7.3), the idle timeout, and the item size limit (STOR, RETR, DATT). The total
//! connection limit and the line length are tested in engine.rs; replies made only as fast as
//! the client reads them in src/transport. Accounts user56..user59 and user61 only.

use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};

use agap_gateway::config::Config;

use crate::harness::{Client, TestGateway, imap, imap_append_raw, password, with_dav, with_hashed_logins};

/// Connects and reads the welcome line, which must have `code`.
async fn welcomed_with(gateway: &TestGateway, code: &str) -> Client {
    let (client, welcome) = Client::connect(gateway.address()).await;
    assert!(welcome.starts_with(code), "expected {code}: {welcome}");
    client
}

#[tokio::test]
async fn connections_per_address_past_the_limit_get_410_and_slots_free_up() {
    let gateway = TestGateway::start_with(|config| config.limits.max_connections_per_address = 2).await;
    let mut first = welcomed_with(&gateway, "200 ").await;
    let _second = welcomed_with(&gateway, "200 ").await;
    let mut third = welcomed_with(&gateway, "410 ").await;
    assert!(third.is_closed().await);
    first.expect("QUIT", 200).await;
    assert!(first.is_closed().await);
    assert!(crate::harness::welcomed_again(gateway.address()).await, "a freed slot is reused");
}

#[tokio::test]
async fn a_banned_network_is_greeted_with_531_and_closed() {
    let gateway = TestGateway::start_with(|config| config.limits.banned_networks = vec!["127.0.0.0/8".into()]).await;
    let (mut client, welcome) = Client::connect(gateway.address()).await;
    assert_eq!(welcome, "531 Your IP (127.0.0.1) is blacklisted");
    assert!(client.is_closed().await);
}

/// Hashed logins, and failed ones delayed from the first (by `delay_ms` steps up to twice that)
/// and banning the address at the third.
fn quick_bans(config: &mut Config, delay_ms: u64) {
    with_hashed_logins(config, false);
    config.limits.failed_logins_before_delay = 1;
    config.limits.failed_login_delay_step_ms = delay_ms;
    config.limits.failed_login_max_delay_ms = 2 * delay_ms;
    config.limits.failed_logins_before_ban = 3;
}

#[tokio::test]
async fn failed_logins_ban_the_address_then_the_welcome_is_531() {
    let gateway = TestGateway::start_with(|config| {
        quick_bans(config, 10);
        config.limits.ban_secs = 600;
    })
    .await;
    let mut waiting = gateway.client().await; // welcomed before the ban
    let mut client = gateway.client().await;
    // One wrong PASS (checked upstream) and two wrong HASHes (checked locally) count alike.
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER user56", 200).await;
    client.expect("PASS not-the-password", 511).await;
    for _ in 0..2 {
        let reply = client.expect("AUTH MD5", 200).await;
        let wrong = Md5::new().chain_update(&reply.lines[0]).chain_update("guess").finalize();
        client.expect("USER user56", 200).await;
        let hash: String = wrong.iter().map(|b| format!("{b:02x}")).collect();
        client.expect(&format!("HASH {hash}"), 511).await;
    }
    // Banned: even the right password is refused, and the connection is closed.
    let reply = client.expect("AUTH PLAIN", 531).await;
    assert!(reply.text.contains("failed logins"), "{reply:?}");
    assert!(client.is_closed().await);
    waiting.expect("CAPA", 200).await;
    waiting.expect("AUTH PLAIN", 531).await;
    assert!(waiting.is_closed().await);
    let (mut refused, welcome) = Client::connect(gateway.address()).await;
    assert!(welcome.starts_with("531 Too many failed logins from 127.0.0.1"), "{welcome}");
    assert!(refused.is_closed().await);
}

#[tokio::test]
async fn stor_over_the_size_limit_is_refused_whole_and_the_connection_stays_usable() {
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 2048).await;
    let mut client = gateway.login("user57").await;
    client.expect("MAKE MESG /Limits", 200).await;
    client.expect("SLCT /Limits", 200).await;
    client.expect("STOR", 110).await;
    client.send("<MESSAGE><HEADER><subject>big</subject></HEADER><TEXT>").await;
    for n in 0..200 {
        client.send(&format!("line {n} {}", "x".repeat(70))).await;
    }
    client.send("</TEXT></MESSAGE>").await;
    let refused = client.command("").await;
    assert_eq!(refused.code, 511, "{refused:?}");
    assert!(refused.text.contains("larger than 2048"), "{refused:?}");
    // Nothing stored; the content lines were never taken for commands; the session goes on.
    let stat = client.expect("STAT", 200).await.lines;
    assert!(stat.contains(&"TOTAL 0".to_owned()), "{stat:?}");
    let small = client.stor(&["<MESSAGE><HEADER><subject>small</subject></HEADER><TEXT>hi</TEXT></MESSAGE>"]).await;
    assert_eq!(small.code, 200, "{small:?}");
    client.expect("DELF", 200).await;
}

#[tokio::test]
async fn a_message_over_the_item_limit_is_refused_without_being_read_whole() {
    let mut session = imap("user61").await;
    let small = "From: a@example.com\r\nSubject: small\r\n\r\nshort\r\n";
    let large = format!("From: a@example.com\r\nSubject: large\r\n\r\n{}\r\n", "y".repeat(8000));
    imap_append_raw(&mut session, "INBOX", small.as_bytes()).await;
    imap_append_raw(&mut session, "INBOX", large.as_bytes()).await;
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 4096).await;
    let mut client = gateway.login("user61").await;
    for command in ["RETR 2", "RETR 2 /MESSAGE/TEXT", "DATT 2 1"] {
        let refused = client.expect(command, 511).await;
        assert!(refused.text.contains("larger than the gateway's limit of 4096 bytes"), "{command}: {refused:?}");
    }
    // A header field is fetched alone upstream, so it stays readable; the session goes on.
    assert_eq!(client.expect("RETR 2 /MESSAGE/HEADER/subject", 200).await.lines, ["large"]);
    let whole = client.expect("RETR 1", 200).await.lines;
    assert!(whole.contains(&"<TEXT>short".to_owned()), "{whole:?}");
    client.expect("DELE 1", 200).await;
    client.expect("DELE 2", 200).await;
}

#[tokio::test]
async fn a_calendar_item_over_the_item_limit_is_refused_and_the_session_goes_on() {
    let description = vec!["z".repeat(100); 30].join("\n"); // content lines stay under 1024
    let event = [
        "<VEVENT>".to_owned(),
        "<UID>limits-large-event@agap.invalid</UID>".to_owned(),
        "<DTSTART>2026-12-07T10:00:00Z</DTSTART>".to_owned(),
        // An end every server accepts (Cyrus 3.6 refuses a DATE-TIME start without one).
        "<DURATION>PT1H</DURATION>".to_owned(),
        "<SUMMARY>large</SUMMARY>".to_owned(),
        format!("<DESCRIPTION>{description}</DESCRIPTION>"),
        "</VEVENT>".to_owned(),
    ];
    let event: Vec<&str> = event.iter().map(String::as_str).collect();
    let roomy = TestGateway::start_with(with_dav).await;
    let mut writer = roomy.login("user61").await;
    writer.expect("SLCT /CALENDAR", 200).await;
    let stored = writer.stor(&event).await;
    assert_eq!(stored.code, 200, "{stored:?}");
    let tight = TestGateway::start_with(|config| {
        with_dav(config);
        config.mail.max_item_size = 2048;
    })
    .await;
    let mut reader = tight.login("user61").await;
    reader.expect("SLCT /CALENDAR", 200).await;
    // This instance has a store of its own, so it numbers the calendar afresh. An item over the
    // limit is not read, so a filter on its content cannot match it (as a message's body).
    let by_content = reader.filtered("FIND", &["IS /VEVENT/SUMMARY = 'large'"]).await;
    assert_eq!((by_content.code, by_content.lines.len()), (200, 0), "{by_content:?}");
    let found = reader.filtered("FIND", &[]).await;
    let [uid] = found.lines.as_slice() else { panic!("one item: {found:?}") };
    let refused = reader.expect(&format!("RETR {uid}"), 511).await;
    assert!(refused.text.contains("larger than the gateway's limit of 2048 bytes"), "{refused:?}");
    assert_eq!(reader.expect(&format!("DELE {uid}"), 200).await.code, 200, "the session goes on");
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let gateway = TestGateway::start_with(|config| config.server.idle_timeout_secs = 1).await;
    let mut client = gateway.client().await;
    client.login("user58").await;
    // No command: the gateway closes the connection (bounded by the harness's read timeout).
    assert!(client.is_closed().await);
    let mut again = gateway.client().await;
    again.expect("AUTH PLAIN", 200).await;
    again.expect("USER user58", 200).await;
    again.expect(&format!("PASS {}", password("user58")), 200).await;
}

/// Log output kept in memory.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;

    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}

#[tokio::test]
async fn limits_log_the_client_address_and_never_a_credential() {
    // The only test of this binary that installs a subscriber: it sees every test's logs, which
    // only widens the check.
    let log = CapturedLog::default();
    tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .try_init()
        .expect("no other subscriber in this test binary");
    let gateway = TestGateway::start_with(|config| {
        quick_bans(config, 1);
        config.mail.max_item_size = 4096;
    })
    .await;
    // An item over the size limit (before the ban below shuts out 127.0.0.1).
    let mut session = imap("user61").await;
    session.create("Logged").await.expect("CREATE");
    let large = format!("Subject: large\r\n\r\n{}\r\n", "y".repeat(8000));
    imap_append_raw(&mut session, "Logged", large.as_bytes()).await;
    let mut reader = gateway.login("user61").await;
    reader.expect("SLCT /Logged", 200).await;
    reader.expect("RETR 1", 511).await;
    reader.expect("DELF", 200).await;
    const CANARY: &str = "canary-Secret-7f3a";
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER user59", 200).await;
    client.expect(&format!("PASS {CANARY}"), 511).await;
    client.expect(&format!("PASS {CANARY}{}", "x".repeat(1100)), 510).await; // too long
    let mut hashes = Vec::new();
    for _ in 0..2 {
        let prefix = client.expect("AUTH MD5", 200).await.lines[0].clone();
        client.expect("USER user59", 200).await;
        let hash: String = Md5::new()
            .chain_update(&prefix)
            .chain_update(CANARY)
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        client.expect(&format!("HASH {hash}"), 511).await;
        hashes.push(hash);
    }
    let (mut refused, welcome) = Client::connect(gateway.address()).await;
    assert!(welcome.starts_with("531 "), "{welcome}");
    assert!(refused.is_closed().await);

    let text = String::from_utf8_lossy(&log.0.lock().expect("log buffer")).into_owned();
    for expected in
        ["line too long", "reply delayed", "address banned", "connection refused", "item over the size limit"]
    {
        let line = text.lines().find(|line| line.contains(expected)).unwrap_or_else(|| panic!("{expected}: {text}"));
        assert!(line.contains("WARN") && line.contains("127.0.0.1"), "{line}");
    }
    assert!(!text.contains(CANARY), "a password reached the log");
    for hash in hashes {
        assert!(!text.contains(&hash), "a hash reached the log");
    }
    let users_file_password = crate::harness::FILE_ONLY_PASSWORD;
    assert!(!text.contains(users_file_password) && !text.contains(&password("user56")));
}
