//! AUTH PLAIN, USER, PASS and EXIT (draft 4.6, 4.11, 4.12, 4.19; example 7.2).

use crate::harness::{TestGateway, password};

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
    let backend = crate::harness::private_dovecot();
    let port = backend.port;
    let gateway = TestGateway::start_with(|config| {
        config.imap.port = port;
        config.imap.connect_timeout_secs = 2;
    })
    .await;
    let mut client = gateway.login("alice").await;
    client.expect("LIST /*", 200).await;
    drop(backend); // closes the script's stdin: Dovecot stops
    let mut stopped = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(stopped, "Dovecot did not stop");
    // The pooled connection is dead, then a new one is refused: both are 410.
    for command in ["LIST /*", "STAT", "MAKE MESG /Never"] {
        let reply = client.expect(command, 410).await;
        assert!(reply.text.starts_with("Retry later"), "{reply:?}");
    }
    client.expect("NOOP", 200).await;
    client.expect("QUIT", 200).await;
}
