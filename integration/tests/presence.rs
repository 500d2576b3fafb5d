//! Presence (draft 4.33 PNFO, 4.6 AUTH PRESENCE*, 3.5 the presence state) against the pair's mail
//! server, which checks the logins. Times come from a manual clock that the tests advance (no
//! sleeps), set to the time of Fig 118 so that the answers are the figure's. Accounts: user66 to
//! user69 and user95 to user99 (user95 to user97 are the golden transcripts').

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agap_gateway::clock::Clock;
use agap_gateway::config::{Config, PresenceVisibility};

use crate::harness::{Client, Reply, TestGateway, mail_server, password};

/// 2011-05-27 18:00:00 UTC, the time of Figs 118 and 160.
const FIG_118: i64 = 1_306_519_200;

async fn gateway_at(adjust: impl FnOnce(&mut Config)) -> (TestGateway, Clock) {
    let clock = Clock::manual(FIG_118);
    (TestGateway::start_with_clock(adjust, clock.clone()).await, clock)
}

async fn ask(client: &mut Client, user: &str) -> Reply {
    client.expect(&format!("PNFO USER {user}"), 200).await
}

/// The data lines and the text of a PNFO USER answer.
async fn seen(client: &mut Client, user: &str) -> (Vec<String>, String) {
    let reply = ask(client, user).await;
    (reply.lines, reply.text)
}

fn unknown() -> (Vec<String>, String) {
    (vec!["UNKNOWN".into()], "OK USER not found".into())
}

fn found(lines: &[&str]) -> (Vec<String>, String) {
    (lines.iter().map(|line| (*line).to_owned()).collect(), "OK USER found".into())
}

/// Asks until the answer is `expected`: a connection that drops ends its announcement in a task
/// of its own, a moment after the client saw the close.
async fn eventually(client: &mut Client, user: &str, expected: (Vec<String>, String)) {
    let mut last = None;
    for _ in 0..100 {
        let answer = seen(client, user).await;
        if answer == expected {
            return;
        }
        last = Some(answer);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("PNFO USER {user}: expected {expected:?}, still {last:?}");
}

#[tokio::test]
async fn two_users_see_each_others_presence_with_the_replies_of_fig_118() {
    let (gateway, clock) = gateway_at(|_| {}).await;
    let mut alice = gateway.login("user66").await;
    let mut bob = gateway.login("user67").await;
    assert_eq!(seen(&mut bob, "user66").await, unknown(), "never announced");

    assert_eq!(alice.expect("PNFO HERE", 200).await.text, "OK You are online and not idle");
    assert_eq!(seen(&mut bob, "user66").await, found(&["HERE 2011-05-27 18:00:00 +0000"]));
    assert_eq!(seen(&mut bob, "USER66").await, found(&["HERE 2011-05-27 18:00:00 +0000"]), "names in any case");

    clock.advance(Duration::from_secs(600));
    assert_eq!(
        alice.expect("PNFO STATUS Today I am doing HomeOffice", 200).await.text,
        "OK You changed your status text"
    );
    assert_eq!(
        alice.expect("PNFO AT Headquarter, 1010 Vienna, Austria", 200).await.text,
        "OK You changed your location text"
    );
    assert_eq!(alice.expect("PNFO IDLE 5 min", 200).await.text, "OK You are idle since 5 minutes");
    assert_eq!(
        seen(&mut bob, "user66").await,
        found(&[
            "IDLE 2011-05-27 18:05:00 +0000",
            "STATUS Today I am doing HomeOffice",
            "AT Headquarter, 1010 Vienna, Austria"
        ])
    );
    // Both ways, and in the not-selected state too (docs/interpretations.md, NOTSEL-CMDS).
    bob.expect("SLCT /does-not-exist", 511).await;
    assert_eq!(bob.expect("PNFO AWAY", 200).await.text, "OK You are no more online");
    assert_eq!(seen(&mut alice, "user67").await, found(&["AWAY 2011-05-27 18:10:00 +0000"]));
    // A text without words clears it; one with control characters is refused and changes nothing.
    alice.expect("PNFO AT", 200).await;
    alice.expect("PNFO STATUS Busy\u{1b}[2J", 511).await;
    alice.expect(&format!("PNFO STATUS {}", "x".repeat(201)), 511).await;
    assert_eq!(
        seen(&mut bob, "user66").await,
        found(&["IDLE 2011-05-27 18:05:00 +0000", "STATUS Today I am doing HomeOffice"])
    );
    alice.expect("QUIT", 200).await;
    bob.expect("QUIT", 200).await;
}

#[tokio::test]
async fn for_is_here_until_it_runs_out_then_unknown_and_idle_does_not_run_out() {
    let (gateway, clock) = gateway_at(|_| {}).await;
    let mut alice = gateway.login("user66").await;
    let mut bob = gateway.login("user67").await;
    assert_eq!(
        alice.expect("PNFO FOR 5 min", 200).await.text,
        "OK You are now online. Expecting an update in 5 minutes."
    );
    clock.advance(Duration::from_secs(299));
    assert_eq!(seen(&mut bob, "user66").await, found(&["HERE 2011-05-27 18:00:00 +0000"]));
    clock.advance(Duration::from_secs(1));
    assert_eq!(seen(&mut bob, "user66").await, unknown(), "FOR ran out (4.33)");
    // A new FOR renews it.
    alice.expect("PNFO FOR 1 hour", 200).await;
    clock.advance(Duration::from_secs(3599));
    assert_eq!(seen(&mut bob, "user66").await, found(&["HERE 2011-05-27 18:05:00 +0000"]));
    // IDLE holds until changed.
    bob.expect("PNFO IDLE 2 hour", 200).await;
    clock.advance(Duration::from_secs(400 * 86_400));
    assert_eq!(seen(&mut alice, "user67").await, found(&["IDLE 2011-05-27 17:04:59 +0000"]));
    // Idle since before 1970 starts in 1970 (docs/interpretations.md, PNFO-TIMESTAMP).
    bob.expect("PNFO IDLE 2147483647 year", 200).await;
    assert_eq!(seen(&mut alice, "user67").await, found(&["IDLE 1970-01-01 00:00:00 +0000"]));
}

#[tokio::test]
async fn quit_exit_and_dropped_connections_turn_a_user_offline() {
    let (gateway, clock) = gateway_at(|_| {}).await;
    let mut watcher = gateway.login("user67").await;
    let away_at = |minutes: u32| found(&[&format!("AWAY 2011-05-27 18:{minutes:02}:00 +0000")]);

    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    clock.advance(Duration::from_secs(60));
    alice.expect("QUIT", 200).await;
    // QUIT ends the announcement before its reply.
    assert_eq!(seen(&mut watcher, "user66").await, away_at(1));

    clock.advance(Duration::from_secs(60));
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    alice.expect("EXIT", 200).await;
    assert_eq!(seen(&mut watcher, "user66").await, away_at(2));

    clock.advance(Duration::from_secs(60));
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO FOR 1 day", 200).await;
    drop(alice);
    eventually(&mut watcher, "user66", away_at(3)).await;

    // The idle timeout (1 second here) closes a silent connection: offline too.
    let (gateway, _clock) = gateway_at(|config| config.server.idle_timeout_secs = 1).await;
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    assert!(alice.is_closed().await, "closed by the idle timeout");
    let mut watcher = gateway.login("user67").await;
    eventually(&mut watcher, "user66", away_at(0)).await;
}

#[tokio::test]
async fn one_session_leaving_keeps_the_user_online_while_another_is_here() {
    let (gateway, clock) = gateway_at(|_| {}).await;
    let mut watcher = gateway.login("user69").await;
    let mut phone = gateway.login("user68").await;
    let mut desktop = gateway.login("user68").await;
    phone.expect("PNFO IDLE 1 min", 200).await;
    clock.advance(Duration::from_secs(60));
    desktop.expect("PNFO HERE", 200).await;
    clock.advance(Duration::from_secs(60));
    assert_eq!(seen(&mut watcher, "user68").await, found(&["HERE 2011-05-27 18:01:00 +0000"]), "HERE over IDLE");
    desktop.expect("QUIT", 200).await;
    assert_eq!(seen(&mut watcher, "user68").await, found(&["IDLE 2011-05-27 17:59:00 +0000"]), "the phone is left");
    phone.expect("QUIT", 200).await;
    assert_eq!(seen(&mut watcher, "user68").await, found(&["AWAY 2011-05-27 18:02:00 +0000"]));

    // A bound on the sessions of one user that announce.
    let (gateway, _clock) = gateway_at(|config| config.presence.max_sessions_per_user = 2).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(gateway.login("user68").await);
    }
    sessions[0].expect("PNFO HERE", 200).await;
    sessions[1].expect("PNFO AWAY", 200).await;
    sessions[2].expect("PNFO HERE", 410).await;
    sessions[2].expect("PNFO STATUS texts are per user", 200).await;
    sessions[0].expect("QUIT", 200).await;
    sessions[2].expect("PNFO HERE", 200).await;
}

/// The verbs of the draft (engine.rs), in the presence state: PNFO USER and QUIT only (3.5).
#[tokio::test]
async fn the_presence_state_accepts_only_pnfo_user_and_quit() {
    let (gateway, _clock) = gateway_at(|_| {}).await;
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;

    let mut client = gateway.client().await;
    assert_eq!(client.expect("AUTH PRESENCE", 200).await.text, "OK Send USER");
    client.expect("USER user69", 200).await;
    let reply = client.expect(&format!("PASS {}", password("user69")), 200).await;
    assert_eq!(reply.text, "OK User user69 authenticated");
    for verb in crate::engine::ALL_VERBS.iter().filter(|verb| **verb != "QUIT") {
        let reply = client.command(verb).await;
        let expected = if *verb == "PNFO" { 511 } else { 510 }; // Fig 120; docs/interpretations.md, STATE-CODE
        assert_eq!(reply.code, expected, "{verb}: {reply:?}");
    }
    for line in ["STAT", "SLCT /INBOX", "LIST /*", "RETR 1", "EXIT", "AUTH PLAIN", "FSTO MESG user66"] {
        assert_eq!(client.command(line).await.code, 510, "{line}");
    }
    for request in ["HERE", "AWAY", "FOR 5 min", "IDLE 5 min", "STATUS text", "AT place"] {
        let reply = client.expect(&format!("PNFO {request}"), 511).await;
        assert!(reply.text.contains("only PNFO USER"), "{reply:?}");
    }
    assert_eq!(seen(&mut client, "user66").await, found(&["HERE 2011-05-27 18:00:00 +0000"]));
    assert_eq!(seen(&mut client, "user66@example.com").await, unknown());
    client.expect("QUIT", 200).await;
    assert!(client.is_closed().await);

    // A wrong password is the same 511 as for PLAIN, back to the not-authenticated state.
    let mut client = gateway.client().await;
    client.expect("AUTH PRESENCE", 200).await;
    client.expect("USER user69", 200).await;
    let reply = client.expect("PASS wrong", 511).await;
    assert!(reply.text.contains("WRONG user/password pair"), "{reply:?}");
    client.expect("PNFO USER user66", 510).await;
}

#[tokio::test]
async fn presence_md5_and_sha1_log_in_like_md5_and_sha1() {
    let dir = tempfile::tempdir().expect("directory");
    let users = dir.path().join("users");
    std::fs::write(&users, format!("user69:{}\n", password("user69"))).expect("users file");
    let (gateway, _clock) = gateway_at(|config| config.auth.users_file = Some(users)).await;
    let mut client = gateway.client().await;
    let capa = client.expect("CAPA", 200).await.lines;
    for name in ["AUTH-PRESENCE", "AUTH-PRESENCE-MD5", "AUTH-PRESENCE-SHA1", "PNFO"] {
        assert!(capa.contains(&name.to_owned()), "{name} in {capa:?}");
    }
    for (mechanism, right) in [("PRESENCE-MD5", true), ("PRESENCE-SHA1", true), ("PRESENCE-SHA1", false)] {
        let reply = client.expect(&format!("AUTH {mechanism}"), 200).await;
        let prefix = reply.lines[0].clone();
        let secret = if right { password("user69") } else { "wrong".into() };
        let hash = if mechanism.ends_with("MD5") {
            crate::auth::md5_hash(&prefix, &secret)
        } else {
            crate::auth::sha1_hash(&prefix, &secret)
        };
        client.expect("USER user69", 200).await;
        if !right {
            client.expect(&format!("HASH {hash}"), 511).await;
            continue;
        }
        assert_eq!(client.expect(&format!("HASH {hash}"), 200).await.text, "OK User user69 authenticated");
        assert_eq!(seen(&mut client, "user69").await, unknown());
        client.expect("STAT", 510).await;
        client.expect("QUIT", 200).await;
        client = gateway.client().await;
    }
}

#[tokio::test]
async fn pnfo_without_or_with_a_wrong_argument_and_with_presence_switched_off() {
    let (gateway, _clock) = gateway_at(|_| {}).await;
    let mut client = gateway.login("user66").await;
    assert_eq!(client.expect("PNFO", 511).await.text, "ERROR Missing argument"); // Fig 120
    assert_eq!(client.expect("PNFO WRONG", 511).await.text, "ERROR UNKNOWN argument WRONG");
    for bad in ["PNFO HERE now", "PNFO FOR 0 min", "PNFO FOR 5 weeks", "PNFO IDLE -5 min", "PNFO USER"] {
        client.expect(bad, 511).await;
    }

    let (off, _clock) = gateway_at(|config| config.presence.enabled = false).await;
    let mut client = off.client().await;
    let capa = client.expect("CAPA", 200).await.lines;
    assert!(!capa.iter().any(|line| line == "PNFO" || line.starts_with("AUTH-PRESENCE")), "{capa:?}");
    client.expect("AUTH PRESENCE", 511).await;
    client.login("user66").await;
    for line in ["PNFO", "PNFO HERE", "PNFO USER user66"] {
        let reply = client.expect(line, 510).await; // Fig 119
        assert!(reply.text.contains("Presence is not supported"), "{reply:?}");
    }
}

#[tokio::test]
async fn users_outside_what_the_asker_may_see_are_unknown() {
    let (gateway, _clock) = gateway_at(|_| {}).await;
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    let mut bob = gateway.login("user67").await;
    // Another domain, an account that does not exist, and one that never announced: all alike.
    for user in ["user66@example.com", "user@domain.com", "nobody-here", "user68"] {
        assert_eq!(seen(&mut bob, user).await, unknown(), "{user}");
    }
    assert_eq!(seen(&mut alice, "user66").await.1, "OK USER found", "oneself");

    let (gateway, _clock) = gateway_at(|config| config.presence.visibility = PresenceVisibility::SelfOnly).await;
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    let mut bob = gateway.login("user67").await;
    assert_eq!(seen(&mut bob, "user66").await, unknown());
    assert_eq!(seen(&mut alice, "user66").await.1, "OK USER found");
}

#[tokio::test]
async fn anonymous_presence_logins_only_where_configured() {
    // Off by default: `anonymous` is an ordinary name the mail server refuses.
    let (gateway, _clock) = gateway_at(|_| {}).await;
    let mut client = gateway.client().await;
    client.expect("AUTH PRESENCE", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS someone@example.net", 511).await;

    let (gateway, _clock) = gateway_at(|config| {
        config.presence.anonymous = true;
        config.presence.anonymous_domains = vec!["*".into()];
    })
    .await;
    let mut alice = gateway.login("user66").await;
    alice.expect("PNFO HERE", 200).await;
    let mut client = gateway.client().await;
    client.expect("AUTH PRESENCE", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS not an address", 511).await;
    client.expect("AUTH PRESENCE", 200).await;
    client.expect("USER anonymous", 200).await;
    assert_eq!(client.expect("PASS someone@example.net", 200).await.text, "OK User anonymous authenticated");
    assert_eq!(seen(&mut client, "user66").await, found(&["HERE 2011-05-27 18:00:00 +0000"]));
    client.expect("PNFO HERE", 511).await;
    // Not after AUTH PLAIN: that logs in to an account.
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS someone@example.net", 511).await;
}

/// One gateway process of the binary on `store`, and its address.
fn gateway_process(dir: &std::path::Path, name: &str, store: &std::path::Path) -> (Stopping, SocketAddr) {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\nname = \"{name}\"\n[store]\nurl = \"sqlite://{}\"\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n[log]\nfilter = \"warn\"\n",
            store.display(),
            mail_server().port
        ),
    )
    .expect("config");
    let mut child = Stopping(
        Command::new(env!("CARGO_BIN_EXE_agap-gateway"))
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the gateway binary"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).expect("the gateway starts");
        if let Some(address) = line.strip_prefix("agap-gateway listening on ") {
            return (child, address.trim().parse().expect("an address"));
        }
    }
}

/// Ends the child process even when the test fails.
struct Stopping(Child);

impl Drop for Stopping {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn two_gateway_processes_on_one_store_see_the_same_presence() {
    let dir = tempfile::tempdir().expect("directory");
    let store = dir.path().join("shared.db");
    let (_first, first_address) = gateway_process(dir.path(), "first", &store);
    let (_second, second_address) = gateway_process(dir.path(), "second", &store);
    let login = |address| async move {
        let (mut client, welcome) = Client::connect(address).await;
        assert!(welcome.starts_with("200 "), "{welcome}");
        client.login(if address == first_address { "user98" } else { "user99" }).await;
        client
    };
    let mut on_first = login(first_address).await;
    let mut on_second = login(second_address).await;
    on_first.expect("PNFO HERE", 200).await;
    on_first.expect("PNFO AT the first gateway", 200).await;
    let (lines, text) = seen(&mut on_second, "user98").await;
    assert_eq!(text, "OK USER found");
    assert!(lines[0].starts_with("HERE ") && lines[0].ends_with(" +0000"), "{lines:?}");
    assert_eq!(lines[1], "AT the first gateway");
    on_second.expect("PNFO IDLE 3 min", 200).await;
    assert!(seen(&mut on_first, "user99").await.0[0].starts_with("IDLE "));
    on_first.expect("QUIT", 200).await;
    assert!(seen(&mut on_second, "user98").await.0[0].starts_with("AWAY "));
}
