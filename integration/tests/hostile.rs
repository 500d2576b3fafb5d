//! Hostile input against the IMAP side (issue "hostile input"): what an AGAP client or a mail
//! sender sends must never reach an IMAP command line as syntax, nor make the gateway read more
//! of a message than `[mail] max_item_size`. Against the pair's real IMAP server; accounts
//! user70..user74 only. The DAV, folder-record, secret and memory cases have suites of their own
//! (hostile_dav.rs, hostile_records.rs, hostile_secrets.rs, hostile_memory.rs).

use std::sync::Arc;

use agap_adapter_api::mail::{MailAccount, MailBackend, MailboxName};
use agap_adapter_api::query::{FetchNeeds, Query};
use agap_adapter_api::{AdapterErrorKind, Credentials};
use agap_adapter_imap::{ImapBackend, ImapSecurity, ImapSettings};

use crate::harness::{TestGateway, imap, imap_append_raw, imap_mailboxes, mail_server, password};

/// The IMAP adapter on its own, logged in to the pair's IMAP server as `user`.
async fn adapter_account(user: &str) -> Arc<dyn MailAccount> {
    let settings = ImapSettings { port: mail_server().port, security: ImapSecurity::Plain, ..ImapSettings::default() };
    let backend = ImapBackend::new(settings);
    backend.login(&Credentials::new(user, password(user))).await.expect("adapter login")
}

fn inbox() -> MailboxName {
    MailboxName::new(vec!["INBOX".into()])
}

/// The injection of the FILT definition that once created a mailbox on Dovecot, and its
/// variants: each argument the core can hand the adapter, with a line break inside.
#[tokio::test]
async fn no_argument_can_smuggle_a_command_into_an_imap_line() {
    let user = "user70";
    let mut direct = imap(user).await;
    imap_append_raw(&mut direct, "INBOX", b"From: a@example.com\r\nSubject: one\r\n\r\nbody\r\n").await;
    let account = adapter_account(user).await;
    let injected = "x\r\nz1 CREATE injected\r\nz2 NOOP (";

    let header = account.fetch_header_fields(&inbox(), 1, &[injected.to_owned()]).await;
    assert_eq!(header.map_err(|e| e.kind()).err(), Some(AdapterErrorKind::Refused));

    let needs = FetchNeeds { header_fields: vec![injected.to_owned()], ..FetchNeeds::default() };
    let visited = account.visit_items(&inbox(), None, &needs, &mut |_| {}).await;
    assert_eq!(visited.map_err(|e| e.kind()).err(), Some(AdapterErrorKind::Refused));

    let entry = format!("/private/vendor/x{injected}");
    let annotation = account.annotations(None, &[entry.as_str()]).await;
    assert_eq!(annotation.map_err(|e| e.kind()).err(), Some(AdapterErrorKind::Refused));

    // A line break in a search text is widened to ALL (never sent); the search still answers.
    let search = Query::FieldContains { field: "subject".into(), text: injected.into() };
    assert!(account.search(&inbox(), &search).await.is_ok());
    // Mailbox names travel in modified UTF-7, where CR and LF are base64: the server sees one
    // name (Dovecot refuses control characters in it; a server that takes it creates that name).
    let odd = MailboxName::new(vec![format!("odd{injected}")]);
    if account.create_mailbox(&odd, None).await.is_ok() {
        account.delete_mailbox(&odd).await.expect("and it goes as it came");
    }

    // The pooled connection that refused is still in step: the next command answers normally.
    let uids = account.message_uids(&inbox()).await.expect("the account still works");
    assert_eq!(uids.uids, vec![1]);
    let mailboxes = imap_mailboxes(&mut direct).await;
    assert!(!mailboxes.iter().any(|name| name.contains("injected")), "{mailboxes:?}");
    assert_eq!(mailboxes, ["INBOX"], "nothing else was created");
}

/// FIND with a body path over a message larger than the item limit: the message is read only
/// up to the limit, cannot be checked and matches nothing; the others are checked as usual and
/// the session goes on. (The same FIND once read a 100 MiB message whole.)
#[tokio::test]
async fn a_body_filter_reads_no_message_past_the_item_limit() {
    let user = "user71";
    let mut direct = imap(user).await;
    let small = b"From: a@example.com\r\nSubject: small\r\n\r\nthe needle is here\r\n".to_vec();
    let mut large = b"From: a@example.com\r\nSubject: large\r\n\r\n".to_vec();
    while large.len() < 3 * 1024 * 1024 {
        large.extend_from_slice(b"hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay\r\n");
    }
    large.extend_from_slice(b"the needle is here too\r\n");
    imap_append_raw(&mut direct, "INBOX", &small).await;
    imap_append_raw(&mut direct, "INBOX", &large).await;
    imap_append_raw(&mut direct, "INBOX", &small).await;

    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 1024 * 1024).await;
    let mut client = gateway.login(user).await;
    let found = client.filtered("FIND", &["REGEX /MESSAGE/TEXT = 'needle'"]).await;
    assert_eq!(found.code, 200, "{found:?}");
    assert_eq!(found.lines, ["1", "3"], "the large message is skipped, not read whole");
    // Header fields are fetched alone, so a header filter still sees the large message.
    let by_subject = client.filtered("FIND", &["IS /MESSAGE/HEADER/subject = 'large'"]).await;
    assert_eq!(by_subject.lines, ["2"]);
    let retr = client.command("RETR 2").await;
    assert_eq!(retr.code, 511, "{retr:?}");
    client.expect("NOOP", 200).await;
}
