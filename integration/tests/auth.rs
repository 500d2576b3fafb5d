//! AUTH PLAIN, MD5 and SHA1, USER, PASS, HASH and EXIT (draft 4.6, 4.10-4.12, 4.19, 6.2, 6.3;
//! examples 7.1, 7.2).

use md5::Md5;
use sha1::{Digest, Sha1};

use crate::harness::{Client, FILE_ONLY_PASSWORD, TestGateway, password, with_dav, with_hashed_logins};

#[tokio::test]
async fn a_successful_login_selects_inbox() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;
    assert_eq!(client.expect("auth plain", 200).await.text, "OK Send USER");
    assert_eq!(client.expect("USER alice", 200).await.text, "OK Send PASS");
    client.expect(&format!("PASS {}", password("alice")), 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat.lines[0], "PATH /INBOX");
}

#[tokio::test]
async fn ordering_and_argument_errors_follow_section_6_2() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;
    client.expect("AUTH", 510).await;
    client.expect("AUTH unknown", 511).await;
    client.expect("AUTH MD5", 511).await; // not offered, not in CAPA
    client.expect("USER alice", 510).await; // not in pre-authentication yet
    client.expect("AUTH PLAIN", 200).await;
    client.expect("PASS secret", 512).await;
    client.expect("USER", 510).await;
    client.expect("USER alice", 200).await;
    client.expect("PASS", 510).await;
    client.expect("USER bob", 200).await; // a new USER replaces the first
    client.expect(&format!("PASS {}", password("bob")), 200).await;
    assert_eq!(client.expect("STAT", 200).await.lines[0], "PATH /INBOX");
}

#[tokio::test]
async fn a_wrong_password_returns_to_the_not_authenticated_state() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER alice", 200).await;
    let reply = client.expect("PASS wrong-password", 511).await;
    assert_eq!(reply.text, "ERROR WRONG user/password pair");
    client.expect("PASS wrong-password", 510).await; // back in 3.1: PASS is not valid there
    client.expect("STAT", 510).await;
    client.login("alice").await;
}

#[tokio::test]
async fn a_cached_login_still_rejects_a_wrong_password() {
    let gateway = TestGateway::start().await;
    let _first = gateway.login("alice").await;
    let mut second = gateway.client().await;
    second.expect("AUTH PLAIN", 200).await;
    second.expect("USER alice", 200).await;
    second.expect("PASS alice-pas", 511).await;
    second.login("alice").await;
}

#[tokio::test]
async fn exit_logs_out_and_a_new_login_works() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("bob").await;
    client.expect("EXIT", 200).await;
    client.expect("LIST", 510).await;
    client.expect("CAPA", 200).await;
    client.login("bob").await;
    client.expect("NOOP", 200).await;
}

#[tokio::test]
async fn an_unreachable_imap_server_is_410_and_the_gateway_keeps_serving() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let gateway = TestGateway::start_with(|config| {
        config.imap.port = closed_port;
        config.imap.connect_timeout_secs = 2;
    })
    .await;
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER alice", 200).await;
    let reply = client.expect("PASS alice-pass", 410).await;
    assert!(reply.text.contains("unreachable"), "{reply:?}");
    client.expect("CAPA", 200).await;
}

#[tokio::test]
async fn a_failing_login_does_not_hold_up_a_proven_one() {
    let gateway = TestGateway::start().await;
    drop(gateway.login("alice").await); // proves alice's password
    let mut attacker = gateway.client().await;
    attacker.expect("AUTH PLAIN", 200).await;
    attacker.expect("USER alice", 200).await;
    // Dovecot answers a wrong password only after its auth_failure_delay (2 s).
    attacker.send("PASS not-her-password").await;
    let failing = attacker.read_reply();
    let proven = async {
        let mut client = gateway.client().await;
        client.login("alice").await;
        client
    };
    tokio::pin!(failing);
    tokio::select! {
        reply = &mut failing => panic!("the wrong password was answered first: {reply:?}"),
        _client = proven => {}
    }
    assert_eq!(failing.await.code, 511);
}

#[tokio::test]
async fn an_imap_server_that_dies_mid_session_gives_410_and_the_session_survives() {
    let backend = crate::harness::private_mail_server();
    let port = backend.port;
    let gateway = TestGateway::start_with(|config| {
        config.imap.port = port;
        config.imap.connect_timeout_secs = 2;
    })
    .await;
    let mut client = gateway.login("alice").await;
    client.expect("LIST /*", 200).await;
    drop(backend); // closes the script's stdin: the server stops
    let mut stopped = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(stopped, "the IMAP server did not stop");
    // The pooled connection is dead, then a new one is refused: both are 410.
    for command in ["LIST /*", "STAT", "MAKE MESG /Never"] {
        let reply = client.expect(command, 410).await;
        assert!(reply.text.starts_with("Retry later"), "{reply:?}");
    }
    client.expect("NOOP", 200).await;
    client.expect("QUIT", 200).await;
}

// AUTH MD5 and SHA1 (draft 4.6, 4.10, 6.3) with a users file; user56..user59 only.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn md5_hash(prefix: &str, password: &str) -> String {
    hex(&Md5::new().chain_update(prefix).chain_update(password).finalize())
}

pub(crate) fn sha1_hash(prefix: &str, password: &str) -> String {
    hex(&Sha1::new().chain_update(prefix).chain_update(password).finalize())
}

/// AUTH with a hashed mechanism: the one `.` line is the prefix (Figs 35, 36).
pub(crate) async fn hashed_auth(client: &mut Client, mechanism: &str) -> String {
    let reply = client.expect(&format!("AUTH {mechanism}"), 200).await;
    assert_eq!(reply.text, "OK Send USER");
    assert_eq!(reply.lines.len(), 1, "{reply:?}");
    let prefix = reply.lines[0].clone();
    assert!((1..=256).contains(&prefix.chars().count()) && prefix.chars().all(|c| c >= ' '), "{prefix:?}");
    prefix
}

#[tokio::test]
async fn md5_and_sha1_log_in_through_the_imap_master_user_and_dav_with_the_file_password() {
    let gateway = TestGateway::start_with(|config| {
        with_hashed_logins(config, true);
        with_dav(config);
    })
    .await;
    let mut client = gateway.client().await;
    let prefix = hashed_auth(&mut client, "md5").await;
    assert_eq!(client.expect("USER user56", 200).await.text, "OK Send HASH");
    let reply = client.expect(&format!("HASH {}", md5_hash(&prefix, &password("user56"))), 200).await;
    assert_eq!(reply.text, "OK User user56 authenticated");
    assert_eq!(client.expect("STAT", 200).await.lines[0], "PATH /INBOX");
    let folders = client.expect("LIST /*", 200).await.lines;
    assert!(folders.iter().any(|line| line.ends_with("/CALENDAR")), "DAV logged in too: {folders:?}");

    let mut client = gateway.client().await;
    let prefix = hashed_auth(&mut client, "SHA1").await;
    client.expect("USER user57", 200).await;
    client.expect(&format!("HASH {}", sha1_hash(&prefix, &password("user57")).to_uppercase()), 200).await;
    client.expect("NOOP", 200).await;
}

#[tokio::test]
async fn with_a_master_user_the_file_password_need_not_be_the_upstream_one() {
    let gateway = TestGateway::start_with(|config| with_hashed_logins(config, true)).await;
    let mut client = gateway.client().await;
    let prefix = hashed_auth(&mut client, "SHA1").await;
    client.expect("USER user59", 200).await;
    client.expect(&format!("HASH {}", sha1_hash(&prefix, FILE_ONLY_PASSWORD)), 200).await;
    assert_eq!(client.expect("STAT", 200).await.lines[0], "PATH /INBOX");
}

#[tokio::test]
async fn without_a_master_user_the_file_password_logs_in_upstream() {
    let gateway = TestGateway::start_with(|config| with_hashed_logins(config, false)).await;
    let mut client = gateway.client().await;
    let prefix = hashed_auth(&mut client, "MD5").await;
    client.expect("USER user58", 200).await;
    client.expect(&format!("HASH {}", md5_hash(&prefix, &password("user58"))), 200).await;
    client.expect("EXIT", 200).await;
    // The hash is right for the file, but the IMAP server knows another password.
    let prefix = hashed_auth(&mut client, "MD5").await;
    client.expect("USER user59", 200).await;
    let reply = client.expect(&format!("HASH {}", md5_hash(&prefix, FILE_ONLY_PASSWORD)), 511).await;
    assert_eq!(reply.text, "ERROR WRONG user/hash pair");
}

#[tokio::test]
async fn hash_ordering_and_errors_follow_section_6_3() {
    let gateway = TestGateway::start_with(|config| with_hashed_logins(config, true)).await;
    let mut client = gateway.client().await;
    client.expect("HASH 00", 510).await; // not in pre-authentication
    let first = hashed_auth(&mut client, "MD5").await;
    client.expect(&format!("HASH {}", md5_hash(&first, &password("user56"))), 512).await; // Fig 53
    client.expect("HASH", 510).await; // Fig 51
    client.expect("PASS secret", 510).await; // PASS belongs to PLAIN (6.3 "other: 510")
    client.expect("USER", 510).await;
    client.expect("USER user56", 200).await;
    let reply = client.expect("HASH 79054025255fb1a26e4bc422aef54eb1", 511).await; // Fig 52
    assert_eq!(reply.text, "ERROR WRONG user/hash pair");
    client.expect("HASH 79054025255fb1a26e4bc422aef54eb1", 510).await; // back in 3.1

    // A fresh prefix per AUTH: the hash for the old one no longer works.
    let second = hashed_auth(&mut client, "MD5").await;
    assert_ne!(first, second);
    client.expect("USER user56", 200).await;
    client.expect(&format!("HASH {}", md5_hash(&first, &password("user56"))), 511).await;
    // An unknown user is answered like a wrong hash.
    let prefix = hashed_auth(&mut client, "SHA1").await;
    client.expect("USER nobody-here", 200).await;
    client.expect(&format!("HASH {}", sha1_hash(&prefix, "guess")), 511).await;
    // A hash of the wrong algorithm, or not hex.
    let prefix = hashed_auth(&mut client, "SHA1").await;
    client.expect("USER user56", 200).await;
    client.expect(&format!("HASH {}", md5_hash(&prefix, &password("user56"))), 511).await;
    let prefix = hashed_auth(&mut client, "SHA1").await;
    client.expect("USER user56", 200).await;
    client.expect("HASH not-hex", 511).await;
    // PLAIN still works beside them, and HASH is not part of it.
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER user56", 200).await;
    client.expect(&format!("HASH {}", sha1_hash(&prefix, &password("user56"))), 510).await;
    client.expect(&format!("PASS {}", password("user56")), 200).await;
}

#[tokio::test]
async fn capa_offers_md5_and_sha1_only_with_a_users_file_and_never_storing() {
    let plain = TestGateway::start().await;
    let mut client = plain.client().await;
    let capa = client.expect("CAPA", 200).await.lines;
    assert_eq!(
        capa.iter().filter(|line| line.starts_with("AUTH-")).collect::<Vec<_>>(),
        ["AUTH-PLAIN", "AUTH-PRESENCE"]
    );
    let reply = client.expect("AUTH SHA1", 511).await;
    assert!(reply.text.contains("users_file"), "{reply:?}");

    let hashed = TestGateway::start_with(|config| with_hashed_logins(config, false)).await;
    let mut client = hashed.client().await;
    let capa = client.expect("CAPA", 200).await.lines;
    let auth: Vec<_> = capa.iter().filter(|line| line.starts_with("AUTH-")).collect();
    assert_eq!(
        auth,
        ["AUTH-MD5", "AUTH-PLAIN", "AUTH-PRESENCE", "AUTH-PRESENCE-MD5", "AUTH-PRESENCE-SHA1", "AUTH-SHA1"]
    );
    for mechanism in ["STORING", "STORING-MD5", "storing-sha1"] {
        let reply = client.expect(&format!("AUTH {mechanism}"), 511).await;
        assert!(reply.text.contains("not offered"), "{reply:?}");
    }
    client.expect("AUTH", 510).await; // Fig 43
    client.expect("AUTH unknown", 511).await; // Fig 44
    client.expect("USER user56", 510).await;
}
