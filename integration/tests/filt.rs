//! FILT folders (draft 2.11.6, 4.3.2, 4.22, 4.34, 4.38; example 7.13).

use crate::harness::{Client, TestGateway, imap, imap_append, records_upstream};

async fn stor(client: &mut Client, lines: &[&str]) -> crate::harness::Reply {
    client.expect("STOR", 110).await;
    for line in lines {
        client.send(line).await;
    }
    client.command("").await
}

const NEW_MESSAGES: [&str; 7] = [
    "<FILTER>",
    "<FOLDERS><FOLDER>/INBOX</FOLDER><FOLDER>/TRASH</FOLDER></FOLDERS>",
    "<RULES>",
    "<AND><NOT><TAG>SEEN</TAG></NOT></AND>",
    "</RULES>",
    "</FILTER>",
    "",
];

#[tokio::test]
async fn example_7_13_a_filter_folder_finds_and_reads_back_and_survives_the_store() {
    let mut session = imap("bob").await;
    for n in 0..3 {
        imap_append(&mut session, "INBOX", &format!("inbox {n}"), n == 1).await;
    }
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("bob").await;
    imap_append(&mut session, "Trash", "deleted", false).await;
    assert!(client.expect("CAPA", 510).await.text.contains("not valid after login"));
    client.expect("MAKE FILT /New-messages", 200).await;
    client.expect("MAKE MESG /New-messages/Sub", 511).await; // FILT takes no subfolders
    client.expect("SLCT /New-messages", 200).await;
    client.expect("RETR", 200).await; // no definition yet: nothing
    let stored = stor(&mut client, &NEW_MESSAGES[..6]).await;
    assert_eq!((stored.code, stored.text.as_str()), (200, "OK Filter stored"));
    let found = client.expect("FIND", 200).await;
    assert_eq!(found.lines, ["1 /INBOX", "3 /INBOX", "1 /TRASH"]);
    assert_eq!(found.text, "OK FIND completed (3 matches)");
    let definition = client.expect("RETR", 200).await.lines;
    assert_eq!(definition, NEW_MESSAGES[..6]);
    client.expect("RETR 1", 511).await;
    client.expect("STAG 1 + SEEN", 511).await;
    let stat = client.expect("STAT", 200).await.lines;
    assert!(stat.contains(&"TYPE FILT".to_owned()) && stat.contains(&"TOTAL 3".to_owned()), "{stat:?}");
    // Invalid definitions leave the previous one in place.
    for bad in [
        &["<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES></RULES></FILTER>"][..],
        &["<FILTER><FOLDERS><FOLDER>/New-messages</FOLDER></FOLDERS><RULES><TAG>A</TAG></RULES></FILTER>"][..],
        &["<FILTER><FOLDERS><FOLDER>/nowhere</FOLDER></FOLDERS><RULES><TAG>A</TAG></RULES></FILTER>"][..],
        &["<FILTER><FOLDERS>"][..],
        &["<MESSAGE><TEXT>x</TEXT></MESSAGE>"][..],
    ] {
        assert_eq!(stor(&mut client, bad).await.code, 511, "{bad:?}");
    }
    assert_eq!(client.expect("RETR", 200).await.lines, definition);
    // Another gateway instance with its own, empty store: where the mail server keeps the
    // gateway's records it sees the folder and its definition; where the store kept them, the
    // folder is the empty mailbox it is upstream, and no message is lost (docs/backends.md).
    let other = TestGateway::start().await;
    let mut second = other.login("bob").await;
    let listed = second.expect("LIST /*", 200).await.lines;
    if records_upstream() {
        assert!(listed.contains(&"FILT /New-messages".to_owned()), "{listed:?}");
        second.expect("SLCT /New-messages", 200).await;
        assert_eq!(second.expect("FIND", 200).await.lines.len(), 3);
    } else {
        assert!(listed.contains(&"MESG /New-messages".to_owned()), "{listed:?}");
        second.expect("SLCT /INBOX", 200).await;
        let stat = second.expect("STAT", 200).await.lines;
        assert!(stat.contains(&"TOTAL 3".to_owned()), "{stat:?}");
    }
    assert!(client.expect("CAPA", 510).await.code == 510);
}

/// A definition may list folders of any type that holds items; each is searched with the rule
/// paths of its own items (docs/interpretations.md, FILT-ANY-TYPE).
#[tokio::test]
async fn a_filter_folder_searches_every_type_it_lists() {
    let mut session = imap("user77").await;
    imap_append(&mut session, "INBOX", "picked mail", false).await;
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login("user77").await;
    client.expect("SLCT /INBOX", 200).await;
    let message = client.filtered("FIND", &[]).await.lines[0].clone();
    client.expect(&format!("STAG {message} + PICK"), 200).await;
    client.expect("SLCT /CALENDAR", 200).await;
    let mut events = Vec::new();
    for (n, summary) in ["picked event", "other event"].iter().enumerate() {
        let stored = client
            .stor(&[
                "<VEVENT>",
                &format!("<UID>filt-any-type-{n}@example.com</UID>"),
                "<DTSTART>2026-12-01T10:00:00Z</DTSTART>",
                "<DTEND>2026-12-01T11:00:00Z</DTEND>",
                &format!("<SUMMARY>{summary}</SUMMARY>"),
                "</VEVENT>",
            ])
            .await;
        assert_eq!(stored.code, 200, "{}", stored.text);
        events.push(crate::collections::stored_uid(&stored));
    }
    client.expect(&format!("STAG {} + PICK", events[0]), 200).await;
    client.expect("MAKE FILT /Picked", 200).await;
    client.expect("SLCT /Picked", 200).await;
    let definition = |rules: &str| {
        format!(
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER><FOLDER>/CALENDAR</FOLDER></FOLDERS><RULES>{rules}</RULES></FILTER>"
        )
    };
    assert_eq!(stor(&mut client, &[&definition("<TAG>PICK</TAG>")]).await.code, 200);
    let found = client.expect("FIND", 200).await.lines;
    assert_eq!(found, [format!("{message} /INBOX"), format!("{} /CALENDAR", events[0])]);
    // A message path finds nothing in a calendar, an event path nothing in a mailbox.
    let by_subject = definition("<IS PATH=\"/MESSAGE/HEADER/subject\" OP=\"=\">picked mail</IS>");
    assert_eq!(stor(&mut client, &[&by_subject]).await.code, 200);
    assert_eq!(client.expect("FIND", 200).await.lines, [format!("{message} /INBOX")]);
    let by_summary = definition("<IS PATH=\"/VEVENT/SUMMARY\" OP=\"=\">picked event</IS>");
    assert_eq!(stor(&mut client, &[&by_summary]).await.code, 200);
    assert_eq!(client.expect("FIND", 200).await.lines, [format!("{} /CALENDAR", events[0])]);
    let stat = client.expect("STAT", 200).await.lines;
    assert!(stat.contains(&"TOTAL 1".to_owned()), "{stat:?}");
    // A folder that holds no items cannot be listed.
    client.expect("MAKE FOLD /Plain", 200).await;
    let plain = "<FILTER><FOLDERS><FOLDER>/Plain</FOLDER></FOLDERS><RULES><TAG>PICK</TAG></RULES></FILTER>";
    assert_eq!(stor(&mut client, &[plain]).await.code, 511);
}
