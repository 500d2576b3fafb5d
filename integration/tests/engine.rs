//! The protocol engine: line limits, bad input, the state table of section 6, the connection limit.

use crate::harness::{Client, TestGateway};

pub const ALL_VERBS: [&str; 36] = [
    "AUTH", "CAPA", "CHNG", "COPY", "CPYF", "DATT", "DELE", "DELF", "EXIT", "FCPY", "FDEL", "FIND", "FMOV", "FSTO",
    "FTAG", "GTAG", "HASH", "LIST", "MAKE", "MOVE", "MOVF", "NAME", "NOOP", "PASS", "PNFO", "RETR", "SGZP", "SLCT",
    "SPAM", "STAG", "STAT", "STLS", "STOR", "SUID", "USER", "QUIT",
];

#[tokio::test]
async fn welcome_names_the_client_and_capa_lists_exactly_what_works() {
    let gateway = TestGateway::start().await;
    let (mut client, welcome) = Client::connect(gateway.address()).await;
    assert_eq!(welcome, "200 Welcome test-gateway [127.0.0.1]");
    let capa = client.expect("capa", 200).await;
    // SGZP by default; STLS only with a certificate (integration/tests/transport.rs).
    assert_eq!(capa.lines, ["AUTH-PLAIN", "AUTH-PRESENCE", "CHNG", "CONF", "FILT", "MESG", "NOTE", "PNFO", "SGZP"]);
    client.expect("QUIT", 200).await;
    assert!(client.is_closed().await);
}

#[tokio::test]
async fn over_long_lines_and_invalid_utf8_are_refused_and_the_connection_survives() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;

    let longest = format!("CAPA {}", "x".repeat(1023 - 5));
    client.send(&longest).await;
    let reply = client.read_reply().await;
    assert_eq!(reply.code, 510, "a 1023-character line fits: {reply:?}");
    assert!(reply.text.contains("CAPA takes no argument"), "{reply:?}");

    client.send_raw(format!("CAPA {}\r\n", "x".repeat(1018)).as_bytes()).await;
    let reply = client.read_reply().await;
    assert_eq!(reply.code, 510);
    assert!(reply.text.contains("longer than 1024"), "with CR LF it is 1025 characters: {reply:?}");

    client.send_raw(&vec![b'y'; 200_000]).await;
    client.send_raw(b"\n").await;
    let reply = client.read_reply().await;
    assert_eq!(reply.code, 510);
    assert!(reply.text.contains("longer than"), "{reply:?}");

    client.send_raw(b"AUTH \xc3\x28\n").await;
    let reply = client.read_reply().await;
    assert_eq!((reply.code, reply.text.contains("UTF-8")), (510, true), "{reply:?}");

    assert_eq!(client.expect("CAPA", 200).await.lines.len(), 9, "still serving");
}

#[tokio::test]
async fn every_command_in_the_not_authenticated_state_answers_per_section_6_1() {
    // Without compression and a certificate, so that SGZP and STLS answer 510 and switch
    // nothing (their 200s are in transport.rs).
    let gateway = TestGateway::start_with(|config| config.server.compression = false).await;
    let mut client = gateway.client().await;
    for verb in ALL_VERBS {
        let expected = match verb {
            "CAPA" | "QUIT" => 200,
            _ => 510, // AUTH without argument, SGZP/STLS not offered, every other command
        };
        client.expect(verb, expected).await;
        if verb == "QUIT" {
            assert!(client.is_closed().await);
        }
    }
}

#[tokio::test]
async fn every_command_in_the_pre_authentication_state_answers_per_section_6_2() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    for verb in ALL_VERBS {
        let expected = match verb {
            "QUIT" => 200,
            _ => 510, // USER and PASS without their argument, everything else
        };
        client.expect(verb, expected).await;
    }
}

#[tokio::test]
async fn every_command_after_login_answers_per_sections_6_4_and_6_5() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("demo").await;
    // Selected (INBOX). Item commands without their arguments, commands of later releases and
    // of other states are 510; FIND and STOR ask for their content; PNFO without its argument is
    // 511 (Fig 120).
    for verb in ALL_VERBS.iter().filter(|v| !matches!(**v, "QUIT" | "EXIT" | "DELF")) {
        let expected = match *verb {
            "CHNG" | "LIST" | "NOOP" | "STAT" | "SUID" => 200,
            "FIND" | "STOR" | "FDEL" => 110,
            "PNFO" => 511,
            _ => 510,
        };
        client.expect(verb, expected).await;
        if expected == 110 {
            // The empty filter or item: FDEL refuses to delete everything (docs/interpretations.md,
            // FDEL-EMPTY).
            client.expect("", if *verb == "FDEL" { 511 } else { 200 }).await;
        }
    }
    client.expect("DELF", 511).await; // INBOX is reserved
    // Not selected.
    client.expect("SLCT /does-not-exist", 511).await;
    for verb in ALL_VERBS.iter().filter(|v| **v != "QUIT") {
        let expected = match *verb {
            "CHNG" | "LIST" => 200,
            "STAT" => 512,
            "DELF" | "NAME" | "SUID" | "PNFO" => 511,
            _ => 510,
        };
        client.expect(verb, expected).await;
    }
    client.expect("QUIT", 200).await;
}

#[tokio::test]
async fn the_connection_limit_greets_with_410_and_frees_up() {
    let gateway = TestGateway::start_with(|config| config.server.max_connections = 2).await;
    let (mut first, _) = Client::connect(gateway.address()).await;
    let (_second, _) = Client::connect(gateway.address()).await;
    let (mut third, welcome) = Client::connect(gateway.address()).await;
    assert!(welcome.starts_with("410 "), "{welcome}");
    assert!(third.is_closed().await);
    first.expect("QUIT", 200).await;
    assert!(first.is_closed().await);
    assert!(crate::harness::welcomed_again(gateway.address()).await, "a freed slot is reused");
}
