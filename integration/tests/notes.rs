//! NOTE folders (draft 2.11.9): notes are messages of a mailbox in the form Apple Notes syncs
//! over IMAP, so AGAP and plain IMAP clients see the same notes (docs/notes.md).

use futures_util::TryStreamExt;

use crate::harness::{Client, ImapSession, TestGateway, imap, imap_append_raw, records_upstream};

/// Figure 19 of the draft, as a client STORs it.
const FIG_19: [&str; 5] = [
    "<NOTE>",
    "  <SUBJECT>Important!</SUBJECT>",
    "  <CONTENT TYPE=\"text/plain\" ENCODED=\"utf-8\">",
    "    To review the code.</CONTENT>",
    "</NOTE>",
];

/// A note as Apple Notes writes it into the Notes mailbox.
const APPLE_NOTE: &str = "From: user79@example.com\r\n\
Content-Type: text/html;\r\n\tcharset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
X-Uniform-Type-Identifier: com.apple.mail-note\r\n\
Mime-Version: 1.0 (Mac OS X Notes 4.9 \\(2050.0.1\\))\r\n\
Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
X-Mail-Created-Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\
Subject: Shopping\r\n\
X-Universally-Unique-Identifier: 2B0C4A52-8D1E-4F5B-9C3A-7E6D5F4A3B21\r\n\
Message-Id: <0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0@example.com>\r\n\
\r\n\
<html><head></head><body><div>Shopping</div><div>Milk and caf=C3=A9</div></body></html>\r\n";

async fn find(client: &mut Client, filter: &[&str]) -> Vec<String> {
    let reply = client.filtered("FIND", filter).await;
    assert_eq!(reply.code, 200, "{reply:?}");
    reply.lines
}

/// The UID in "... (UID is N)".
fn stored_uid(reply: &crate::harness::Reply) -> String {
    crate::collections::stored_uid(reply)
}

/// The whole message with `uid` as a plain IMAP client reads it.
async fn imap_message(session: &mut ImapSession, mailbox: &str, uid: &str) -> String {
    session.select(mailbox).await.expect("SELECT");
    let fetches: Vec<_> =
        session.uid_fetch(uid, "(FLAGS BODY.PEEK[])").await.expect("FETCH").try_collect().await.expect("FETCH");
    let fetch = fetches.first().expect("the message");
    let flags: Vec<String> = fetch.flags().map(|flag| format!("{flag:?}")).collect();
    format!("{}\nFLAGS {flags:?}", String::from_utf8_lossy(fetch.body().expect("body")))
}

#[tokio::test]
async fn a_note_stored_through_agap_is_a_note_to_any_imap_client_and_back() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user78").await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&"NOTE /NOTE".to_owned()), "{listed:?}");
    assert!(client.expect("CAPA", 510).await.code == 510);
    client.expect("SLCT /NOTE", 200).await;
    let stored = client.stor(&FIG_19).await;
    assert!(stored.text.starts_with("OK Note stored (UID is "), "{stored:?}");
    let uid = stored_uid(&stored);
    let rendering = client.expect(&format!("RETR {uid}"), 200).await.lines;
    assert_eq!(rendering[0], "<NOTE>");
    assert!(rendering.contains(&"<SUBJECT>Important!</SUBJECT>".to_owned()), "{rendering:?}");
    assert!(rendering.iter().any(|line| line.contains("To review the code.")), "{rendering:?}");
    let subject = client.expect(&format!("RETR {uid} /NOTE/SUBJECT"), 200).await.lines;
    assert_eq!(subject, ["Important!"]);
    // Tags are IMAP flags, as on messages.
    client.expect(&format!("STAG {uid} + SEEN FLAGGED"), 200).await;
    assert_eq!(client.expect(&format!("GTAG {uid}"), 200).await.lines, ["FLAGGED", "SEEN"]);
    let mut session = imap("user78").await;
    let raw = imap_message(&mut session, "Notes", &uid).await;
    for expected in [
        "X-Uniform-Type-Identifier: com.apple.mail-note",
        "X-Universally-Unique-Identifier: ",
        "X-Mail-Created-Date: ",
        "Subject: Important!",
        "text/plain",
        "Seen",
    ] {
        assert!(raw.contains(expected), "{expected:?} missing from {raw}");
    }
    // Filters read the note's rendering.
    assert_eq!(find(&mut client, &["IS /NOTE/SUBJECT = 'Important!'"]).await, std::slice::from_ref(&uid));
    assert_eq!(find(&mut client, &["REGEX /NOTE/CONTENT = 'review'"]).await, std::slice::from_ref(&uid));
    assert!(find(&mut client, &["IS /NOTE/SUBJECT = 'Other'"]).await.is_empty());
    assert_eq!(find(&mut client, &["TAG SEEN"]).await, std::slice::from_ref(&uid));
    let stat = client.expect("STAT", 200).await.lines;
    for line in ["PATH /NOTE", "TYPE NOTE", "TOTAL 1"] {
        assert!(stat.contains(&line.to_owned()), "{line} missing from {stat:?}");
    }
    assert!(stat.iter().any(|line| line.starts_with("UCID ")), "{stat:?}");
    client.expect(&format!("DELE {uid}"), 200).await;
    assert!(find(&mut client, &[]).await.is_empty());
}

#[tokio::test]
async fn a_note_written_by_another_client_is_listed_and_read() {
    let gateway = TestGateway::start().await;
    // The first command that reads the folder tree creates the Notes mailbox.
    let mut client = gateway.login("user79").await;
    client.expect("LIST", 200).await;
    let mut session = imap("user79").await;
    imap_append_raw(&mut session, "Notes", APPLE_NOTE.as_bytes()).await;
    // A message a plain mail client filed there, without the note fields, is a note too.
    imap_append_raw(&mut session, "Notes", b"Subject: plain\r\n\r\njust text\r\n").await;
    client.expect("SLCT /NOTE", 200).await;
    let uids = find(&mut client, &[]).await;
    assert_eq!(uids.len(), 2, "{uids:?}");
    let apple = client.expect(&format!("RETR {}", uids[0]), 200).await.lines;
    assert!(apple.contains(&"<SUBJECT>Shopping</SUBJECT>".to_owned()), "{apple:?}");
    assert!(apple.iter().any(|line| line.contains("TYPE=\"text/html\"")), "{apple:?}");
    assert!(apple.iter().any(|line| line.contains("caf\u{e9}")), "{apple:?}");
    let plain = client.expect(&format!("RETR {}", uids[1]), 200).await.lines;
    assert!(plain.contains(&"<SUBJECT>plain</SUBJECT>".to_owned()), "{plain:?}");
    assert!(plain.iter().any(|line| line.contains("TYPE=\"text/plain\"") && line.contains("just text")), "{plain:?}");
}

#[tokio::test]
async fn note_folders_are_made_copied_and_kept_apart_from_mail() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user80").await;
    client.expect("MAKE NOTE /Ideas", 200).await;
    client.expect("MAKE NOTE /Ideas/Later", 200).await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&"NOTE /Ideas".to_owned()), "{listed:?}");
    assert_eq!(client.expect("LIST /Ideas/*", 200).await.lines, ["NOTE /Ideas/Later"]);
    client.expect("MAKE MESG /NOTE/Sub", 511).await; // reserved folders take no subfolders
    client.expect("SLCT /Ideas", 200).await;
    let uid = stored_uid(&client.stor(&FIG_19).await);
    let copied = client.expect(&format!("COPY {uid} /NOTE"), 200).await;
    assert!(copied.text.contains("in /NOTE"), "{copied:?}");
    client.expect(&format!("MOVE {uid} /INBOX"), 511).await; // a note is no message
    client.expect(&format!("MOVE {uid} /Ideas/Later"), 200).await;
    assert!(find(&mut client, &[]).await.is_empty());
    client.expect("SLCT /Ideas/Later", 200).await;
    assert_eq!(find(&mut client, &[]).await.len(), 1);
    // Another gateway with an empty store: where the mail server keeps the gateway's records
    // the folder is still a NOTE folder; elsewhere it shows as the mailbox it is, its notes kept.
    let other = TestGateway::start().await;
    let mut second = other.login("user80").await;
    let listed = second.expect("LIST /Ideas/*", 200).await.lines;
    let kind = if records_upstream() { "NOTE" } else { "MESG" };
    assert_eq!(listed, [format!("{kind} /Ideas/Later")]);
    let listed = second.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&"NOTE /NOTE".to_owned()), "the reserved folder needs no record: {listed:?}");
}

#[tokio::test]
async fn bad_notes_are_refused_and_nothing_is_stored() {
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 64 * 1024).await;
    let mut client = gateway.login("user81").await;
    client.expect("SLCT /NOTE", 200).await;
    let too_long = format!("<NOTE><SUBJECT>big</SUBJECT><CONTENT>{}</CONTENT></NOTE>", "x".repeat(70 * 1024));
    let bad: [&[&str]; 6] = [
        &["<NOTE><SUBJECT>png</SUBJECT><CONTENT TYPE=\"image/png\" ENCODED=\"base64\">iVBORw0KGgo=</CONTENT></NOTE>"],
        &["<NOTE><SUBJECT>x</SUBJECT><CONTENT ENCODED=\"rot13\">x</CONTENT></NOTE>"],
        &["<NOTE><SUBJECT>a&#13;&#10;Bcc: victim@example.com</SUBJECT><CONTENT>x</CONTENT></NOTE>"],
        &["<MESSAGE><HEADER><subject>mail</subject></HEADER><TEXT>x</TEXT></MESSAGE>"],
        &["<NOTE><SUBJECT>unclosed</SUBJECT>"],
        &[&too_long],
    ];
    for lines in bad {
        let reply = client.stor(lines).await;
        assert_eq!(reply.code, 511, "{lines:?}: {reply:?}");
    }
    assert!(find(&mut client, &[]).await.is_empty(), "nothing stored");
    client.expect("SLCT /INBOX", 200).await;
    assert_eq!(client.stor(&FIG_19).await.code, 511, "a note is no message");
    assert!(find(&mut client, &[]).await.is_empty());
}
