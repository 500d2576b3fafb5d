//! Hostile input against the gateway's memory and the IMAP lines it writes (issue 12): each
//! test performs the attack on a real IMAP server (the pair's kind) and asserts the AGAP reply, that
//! the session goes on, and that nothing changed upstream. The tests share a server of their own, so that
//! what they count there is theirs alone.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::TryStreamExt;

use crate::harness::{Backend, Client, ImapSession, TestGateway, imap_mailboxes, imap_on, private_mail_server};

/// The item limit of these tests: small, so that the attacks are quick.
const MAX_ITEM_SIZE: usize = 1 << 20;

fn backend() -> &'static Backend {
    static MAIL: OnceLock<Backend> = OnceLock::new();
    MAIL.get_or_init(private_mail_server)
}

async fn gateway() -> TestGateway {
    TestGateway::start_with(|config| {
        config.imap.port = backend().port;
        config.mail.max_item_size = MAX_ITEM_SIZE;
    })
    .await
}

async fn login(gateway: &TestGateway, user: &str) -> Client {
    let mut client = gateway.client().await;
    client.login(user).await;
    client.set_patience(Duration::from_secs(120));
    client
}

async fn direct(user: &str) -> ImapSession {
    imap_on(backend().port, user).await
}

/// The UIDs of `mailbox` as another IMAP client sees them.
async fn uids(session: &mut ImapSession, mailbox: &str) -> Vec<u32> {
    session.select(mailbox).await.expect("SELECT");
    let mut uids: Vec<u32> = session.uid_search("ALL").await.expect("SEARCH").into_iter().collect();
    uids.sort_unstable();
    uids
}

/// Sends STOR's content as raw lines (one write per chunk, not per line) and its empty line.
async fn stor_raw(client: &mut Client, content: &[u8]) -> crate::harness::Reply {
    client.expect("STOR", 110).await;
    for chunk in content.chunks(1 << 20) {
        client.send_raw(chunk).await;
    }
    client.command("").await
}

#[tokio::test]
async fn a_stor_of_one_character_lines_past_the_item_limit_is_refused_whole() {
    let gateway = gateway().await;
    let mut client = login(&gateway, "alice").await;
    let mut session = direct("alice").await;
    let before = uids(&mut session, "INBOX").await;
    client.expect("SLCT /INBOX", 200).await;
    // 20 MiB of one-character lines inside an otherwise valid message.
    let mut content = b"<MESSAGE>\n<TEXT>\n".to_vec();
    content.extend(b"x\n".repeat(10 << 20));
    content.extend(b"</TEXT>\n</MESSAGE>\n");
    let reply = stor_raw(&mut client, &content).await;
    assert_eq!(reply.code, 511, "{reply:?}");
    assert!(reply.text.contains(&format!("content larger than {MAX_ITEM_SIZE} bytes")), "{reply:?}");
    // The session goes on, nothing was stored, and an item within the limit is stored.
    client.expect("NOOP", 200).await;
    assert_eq!(uids(&mut session, "INBOX").await, before);
    let stored = client.stor(&["<MESSAGE><HEADER><Subject>fine</Subject></HEADER><TEXT>x</TEXT></MESSAGE>"]).await;
    assert_eq!(stored.code, 200, "{stored:?}");
    assert_eq!(uids(&mut session, "INBOX").await.len(), before.len() + 1);
}

#[tokio::test]
async fn a_stor_of_tiny_elements_past_the_element_bound_is_refused() {
    let gateway = gateway().await;
    let mut client = login(&gateway, "bob").await;
    let mut session = direct("bob").await;
    let before = uids(&mut session, "INBOX").await;
    client.expect("SLCT /INBOX", 200).await;
    // 100 KiB of `<a/>`: a tenth of the item limit, but 25,500 elements, whose tree would be
    // about 5 MiB (the bound for 1 MiB items is 4,681 elements and attributes).
    let mut content = b"<MESSAGE>\n<HEADER><Subject>tiny</Subject></HEADER>\n<TEXT>\n".to_vec();
    for _ in 0..100 {
        content.extend(b"<a/>".repeat(255));
        content.push(b'\n');
    }
    content.extend(b"</TEXT>\n</MESSAGE>\n");
    let reply = stor_raw(&mut client, &content).await;
    assert_eq!(reply.code, 511, "{reply:?}");
    assert!(reply.text.contains("more than 4681 elements and attributes"), "{reply:?}");
    client.expect("NOOP", 200).await;
    assert_eq!(uids(&mut session, "INBOX").await, before);
}

#[tokio::test]
async fn a_find_of_a_thousand_heavy_regular_expressions_is_refused_by_the_budget() {
    let gateway = gateway().await;
    let mut client = login(&gateway, "user01").await;
    let mut session = direct("user01").await;
    let message = format!("From: a@example.com\r\nX: {}\r\nSubject: heavy\r\n\r\nbody\r\n", "a".repeat(200));
    session.append("INBOX", None, None, message.as_bytes()).await.expect("APPEND");
    let before = uids(&mut session, "INBOX").await;
    client.expect("SLCT /INBOX", 200).await;
    let rules = vec!["REGEX header/x = '(a{100}){60}'"; 1000];
    let reply = client.filtered("FIND", &rules).await;
    assert_eq!(reply.code, 511, "{reply:?}");
    assert!(reply.text.contains("the regular expressions of this filter need more than"), "{reply:?}");
    // The session goes on; a filter within the budget finds the message; FDEL with the heavy
    // filter deletes nothing.
    let found = client.filtered("FIND", &["REGEX header/x = '(a{100}){2}'"]).await;
    assert_eq!((found.code, found.lines.len()), (200, 1), "{found:?}");
    assert_eq!(client.filtered("FDEL", &rules).await.code, 511);
    assert_eq!(uids(&mut session, "INBOX").await, before);
}

/// The injection of issue 12, as it was done: `&#13;&#10;` in the PATH of a FILT definition
/// became a CR LF on the IMAP command line, and Dovecot created the mailbox `injected`.
#[tokio::test]
async fn a_filt_definition_with_a_line_break_in_a_header_name_is_refused_at_stor() {
    let gateway = gateway().await;
    let mut client = login(&gateway, "user02").await;
    let mut session = direct("user02").await;
    session.append("INBOX", None, None, b"From: a@example.com\r\nSubject: s\r\n\r\nb\r\n").await.expect("APPEND");
    client.expect("MAKE FILT /Injection", 200).await;
    client.expect("SLCT /Injection", 200).await;
    let stored = client
        .stor(&[
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES>",
            "<REGEX PATH=\"/MESSAGE/HEADER/x&#13;&#10;z1 CREATE injected&#13;&#10;z2 NOOP (\" OP=\"=\">a</REGEX>",
            "</RULES></FILTER>",
        ])
        .await;
    assert_eq!(stored.code, 511, "{stored:?}");
    assert!(stored.text.contains("is no header field name"), "{stored:?}");
    // Nothing was stored: the folder still has no definition, and FIND there reaches no
    // IMAP line with the name.
    assert!(client.expect("RETR", 200).await.lines.is_empty());
    assert_eq!(client.expect("FIND", 200).await.lines, Vec::<String>::new());
    // The same name in a command filter is refused too.
    client.expect("SLCT /INBOX", 200).await;
    let find = client.filtered("FIND", &["REGEX header/x:y = 'a'"]).await;
    assert_eq!(find.code, 511, "{find:?}");
    let mailboxes = imap_mailboxes(&mut session).await;
    assert!(!mailboxes.iter().any(|name| name.eq_ignore_ascii_case("injected")), "{mailboxes:?}");
    let names: Vec<_> =
        session.list(Some(""), Some("injected")).await.expect("LIST").try_collect().await.expect("LIST results");
    assert!(names.is_empty());
}
