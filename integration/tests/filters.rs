//! The filter language on messages: FIND, FTAG, FDEL, FMOV, FCPY (draft 4.3.1, 4.20-4.25;
//! examples 7.6, 7.12, 7.17), pushed down to IMAP where possible and checked exactly.

use crate::harness::{Client, TestGateway, imap, imap_append_raw};

/// Sends a filter command and its filter lines; returns the final reply.
async fn filtered(client: &mut Client, command: &str, filter: &[&str]) -> crate::harness::Reply {
    client.expect(command, 110).await;
    for line in filter {
        client.send(line).await;
    }
    client.command("").await
}

async fn find(client: &mut Client, filter: &[&str]) -> Vec<String> {
    let reply = filtered(client, "FIND", filter).await;
    assert_eq!(reply.code, 200, "{filter:?}: {reply:?}");
    reply.lines
}

fn message(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: user39@example.com\r\nSubject: {subject}\r\n\r\n{body}\r\n").into_bytes()
}

/// Messages 1..=6 in INBOX; 1, 2 and 5 seen.
async fn populate(user: &str) {
    let mut session = imap(user).await;
    let messages = [
        message("news@example.com", "Newsletter from Example.com", "This is your weekly newsletter."),
        message("\"Doe, John\" <john@example.org>", "Cheap V1agra", "buy now"),
        message("alice@example.net", "Newsletter from Example.com", "Another issue."),
        message("bob@example.net", "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Hallo"),
        message("12345@example.com", "Viagra deals", "spam body"),
        message("carol@example.net", "Meeting", "Let us meet, it's Viagra-free"),
    ];
    for (index, raw) in messages.iter().enumerate() {
        imap_append_raw(&mut session, "INBOX", raw).await;
        if matches!(index, 0 | 1 | 4) {
            session.select("INBOX").await.expect("SELECT");
            session.run_command_and_check_ok(format!("UID STORE {} +FLAGS (\\Seen)", index + 1)).await.expect("STORE");
        }
    }
}

#[tokio::test]
async fn find_evaluates_every_kind_of_rule() {
    populate("user39").await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user39").await;
    client.expect("STAG 3 + HAS=VIRUS", 200).await;
    client.expect("STAG 2 + SPAM", 200).await;
    assert_eq!(find(&mut client, &[]).await, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(find(&mut client, &["TAG SEEN"]).await, ["1", "2", "5"]);
    assert_eq!(find(&mut client, &["NOT TAG SEEN"]).await, ["3", "4", "6"]);
    assert_eq!(find(&mut client, &["UID 2:4"]).await, ["2", "3", "4"]);
    assert_eq!(find(&mut client, &["IS /MESSAGE/HEADER/subject = 'Newsletter from Example.com'"]).await, ["1", "3"]);
    assert!(
        find(&mut client, &["IS /MESSAGE/HEADER/subject = 'newsletter from example.com'"]).await.is_empty(),
        "exact"
    );
    assert_eq!(find(&mut client, &["IS header/subject = 'Grüße'"]).await, ["4"], "decoded, non-ASCII");
    assert_eq!(find(&mut client, &["IS header/from = '\"Doe, John\" <john@example.org>'"]).await, ["2"]);
    assert_eq!(find(&mut client, &["REGEX header/subject = '[Vv][i1]agra'"]).await, ["2", "5"]);
    assert_eq!(
        find(&mut client, &["REGEX /MESSAGE/HEADER/FROM != '^[0-9]+@example\\.com$'"]).await,
        ["1", "2", "3", "4", "6"]
    );
    assert_eq!(find(&mut client, &["REGEX /MESSAGE/TEXT = 'Viagra'"]).await, ["6"], "a body path fetches bodies");
    assert_eq!(find(&mut client, &["OR TAG SPAM TAG HAS=VIRUS"]).await, ["2", "3"]);
    assert_eq!(find(&mut client, &["TAG HAS"]).await, ["3"], "a tag by name, whatever its value");
    // Another client defines a new HAS=... keyword: the search the gateway pipelines behind its
    // SELECT was built from the old keyword list, and must be redone with the new one.
    let mut other = imap("user39").await;
    other.select("INBOX").await.expect("SELECT");
    other.run_command_and_check_ok("UID STORE 5 +FLAGS (HAS=worm)").await.expect("STORE");
    assert_eq!(find(&mut client, &["TAG HAS"]).await, ["3", "5"], "a keyword defined by another client");
    other.run_command_and_check_ok("UID STORE 5 -FLAGS (HAS=worm)").await.expect("STORE");
    // Example 1 of 4.3.1: both forms, one meaning.
    let first = find(&mut client, &["UID 1:6 OR ( TAG SPAM TAG HAS=VIRUS ) TAG SEEN"]).await;
    let second = find(&mut client, &["UID 1:6 AND( OR ( TAG SPAM TAG HAS=VIRUS ) TAG SEEN)"]).await;
    assert_eq!(first, second);
    assert_eq!(first, ["1", "2", "5"]);
    // Example 7.6.
    assert_eq!(find(&mut client, &["TAG NEW IS /HEADER/subject = 'Newsletter from Example.com'"]).await, ["3"]);
    // Groups over several lines, keywords in any case.
    assert_eq!(find(&mut client, &["or", "(", "tag spam", ")", "( uid 6 )"]).await, ["2", "6"]);
    let invalid = filtered(&mut client, "FIND", &["LATER"]).await;
    assert_eq!((invalid.code, invalid.text.starts_with("ERROR INVALID filter definition")), (511, true), "{invalid:?}");
    client.expect("NOOP", 200).await;
}

#[tokio::test]
async fn example_7_17_ftag_then_fdel() {
    populate("user40").await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user40").await;
    client.expect("FTAG", 510).await;
    client.expect("FTAG SEEN", 511).await; // no action: checked before the filter
    let tagged = filtered(&mut client, "FTAG + SPAM", &["REGEX header/subject = '[Vv][i1]agra'"]).await;
    assert_eq!((tagged.code, tagged.text.as_str()), (200, "OK FTAG completed (2 matches)"));
    assert_eq!(find(&mut client, &["TAG SPAM"]).await, ["2", "5"]);
    let none = filtered(&mut client, "FTAG + X", &["TAG NOTHING-HAS-THIS"]).await;
    assert_eq!((none.code, none.text.as_str()), (200, "OK FTAG completed (0 matches)"));
    let everything = filtered(&mut client, "FDEL", &[]).await;
    assert_eq!(everything.code, 511, "the empty filter deletes nothing");
    assert_eq!(find(&mut client, &[]).await.len(), 6);
    // The figure's zero-padded UIDs name other UIDs than this gateway's unpadded ones (AGAP
    // order sorts shorter UIDs first), so that range matches nothing here.
    let padded = filtered(&mut client, "FDEL", &["UID 00000001:00001000 AND TAG SPAM"]).await;
    assert_eq!((padded.code, padded.text.as_str()), (200, "OK FDEL completed (0 matches)"));
    let deleted = filtered(&mut client, "FDEL", &["UID 1:1000 AND TAG SPAM"]).await;
    assert_eq!((deleted.code, deleted.text.as_str()), (200, "OK FDEL completed (2 matches)"));
    assert_eq!(find(&mut client, &[]).await, ["1", "3", "4", "6"]);
}

#[tokio::test]
async fn example_7_12_fmov_and_fcpy_with_their_checks() {
    populate("alice").await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("alice").await;
    client.expect("STAG 1 + SPAM", 200).await;
    client.expect("STAG 2 + SPAM", 200).await;
    client.expect("SPAM 1 header/subject", 200).await;
    client.expect("MAKE MESG /Archive-SPAM", 200).await;
    client.expect("MAKE MESG /Copies", 200).await;
    client.expect("FMOV", 510).await;
    client.expect("FMOV MISSING", 511).await; // checked before the filter (Fig 92)
    client.expect("FCPY /nowhere", 511).await;
    let copied = filtered(&mut client, "FCPY /Copies", &["TAG SEEN"]).await;
    assert_eq!((copied.code, copied.text.as_str()), (200, "OK FCPY completed (3 matches)"));
    let moved = filtered(&mut client, "FMOV /Archive-SPAM", &["TAG SPAM"]).await;
    assert_eq!((moved.code, moved.text.as_str()), (200, "OK FMOV completed (2 matches)"));
    assert_eq!(find(&mut client, &["TAG SPAM"]).await, Vec::<String>::new());
    client.expect("SLCT /Archive-SPAM", 200).await;
    assert_eq!(find(&mut client, &["TAG SPAM"]).await.len(), 2, "tags moved with the messages");
    client.expect("SLCT /Copies", 200).await;
    assert_eq!(find(&mut client, &[]).await.len(), 3);
}
