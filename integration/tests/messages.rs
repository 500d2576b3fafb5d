//! Message items over IMAP: FIND (empty filter), GTAG, STAG, DELE, COPY, MOVE, CPYF, MOVF,
//! SPAM (draft 4.14-4.17, 4.22, 4.26, 4.29, 4.30, 4.36, 4.37; examples 7.5, 7.12, 7.16).

use futures_util::TryStreamExt;

use crate::harness::{Client, ImapSession, TestGateway, imap, imap_append};

async fn uids(client: &mut Client) -> Vec<String> {
    client.expect("FIND", 110).await;
    client.expect("", 200).await.lines
}

/// The flags a plain IMAP client sees on the message with `uid`.
async fn imap_flags(session: &mut ImapSession, mailbox: &str, uid: &str) -> Vec<String> {
    session.select(mailbox).await.expect("SELECT");
    let fetches: Vec<_> =
        session.uid_fetch(uid, "FLAGS").await.expect("FETCH").try_collect().await.expect("FETCH results");
    let mut flags: Vec<String> =
        fetches.iter().flat_map(|fetch| fetch.flags().map(|flag| format!("{flag:?}")).collect::<Vec<_>>()).collect();
    flags.sort();
    flags
}

#[tokio::test]
async fn example_7_5_find_with_an_empty_filter_lists_every_uid_in_order() {
    let mut session = imap("user20").await;
    for n in 0..5 {
        imap_append(&mut session, "INBOX", &format!("m{n}"), false).await;
    }
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user20").await;
    client.expect("SLCT /INBOX", 200).await;
    let reply = client.expect("FIND", 110).await;
    assert_eq!(reply.text, "OK SEND filter definition (end it with an empty line)");
    let found = client.expect("", 200).await;
    assert_eq!(found.lines, ["1", "2", "3", "4", "5"]);
    assert_eq!(found.text, "OK FIND completed (5 matches)");
    // Filter lines are content, never commands; a rule this release cannot evaluate is 511.
    client.expect("FIND", 110).await;
    client.send("QUIT").await;
    client.expect("", 511).await;
    client.expect("NOOP", 200).await;
    client.expect("FIND extra", 510).await;
    client.expect("SLCT /", 511).await;
    client.expect("FIND", 510).await; // not selected
}

#[tokio::test]
async fn example_7_16_tags_round_trip_and_other_clients_see_them() {
    let mut session = imap("user21").await;
    imap_append(&mut session, "INBOX", "tagged", false).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user21").await;
    client.expect("STAG 1 + SPAM FLAG=RED", 200).await;
    client.expect("STAG 1 + SEEN", 200).await;
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["FLAG=RED", "SEEN", "SPAM"]);
    let flags = imap_flags(&mut session, "INBOX", "1").await;
    assert!(flags.iter().any(|f| f.contains("Seen")), "{flags:?}");
    assert!(flags.iter().any(|f| f.contains("$Junk")), "{flags:?}");
    assert!(flags.iter().any(|f| f.contains("FLAG=^r^e^d")), "{flags:?}");
    // The example of section 4.2 (docs/interpretations.md, TAG-EXAMPLE-4.2).
    client.expect("STAG 1 = SEEN SPAM=YES", 200).await;
    client.expect("STAG 1 + SEEN FLAG=RED", 200).await;
    client.expect("STAG 1 - FLAG JUNK", 200).await;
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["SEEN", "SPAM=YES"]);
}

#[tokio::test]
async fn tag_values_keep_their_case_and_every_legal_tag_round_trips() {
    let mut session = imap("user22").await;
    imap_append(&mut session, "INBOX", "tagged", false).await;
    let longest = format!("{}={}", "L".repeat(32), "Vv.-_".repeat(6) + "xy");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user22").await;
    client.expect(&format!("STAG 1 = FLAG=Red OTHER=red my-tag EMPTY= {longest} lower=abc"), 200).await;
    let mut expected = vec!["EMPTY=", "FLAG=Red", "LOWER=abc", "MY-TAG", "OTHER=red", longest.as_str()];
    expected.sort();
    assert_eq!(client.expect("GTAG 1", 200).await.lines, expected);
    client.expect("STAG 1 - FLAG=red", 200).await; // a different tag: nothing removed
    assert!(client.expect("GTAG 1", 200).await.lines.contains(&"FLAG=Red".to_owned()));
    client.expect("STAG 1 + FLAG", 200).await; // the name alone replaces the valued tag
    let tags = client.expect("GTAG 1", 200).await.lines;
    assert!(tags.contains(&"FLAG".to_owned()) && !tags.iter().any(|t| t.starts_with("FLAG=")), "{tags:?}");
    // A keyword of another client that is no AGAP tag survives "=".
    session.select("INBOX").await.expect("SELECT");
    session.run_command_and_check_ok("UID STORE 1 +FLAGS ($Forwarded)").await.expect("STORE");
    client.expect("STAG 1 =", 200).await;
    assert!(client.expect("GTAG 1", 200).await.lines.is_empty());
    let flags = imap_flags(&mut session, "INBOX", "1").await;
    assert!(flags.iter().any(|f| f.contains("$Forwarded")), "{flags:?}");
}

#[tokio::test]
async fn stag_and_gtag_errors_follow_section_6() {
    let mut session = imap("user23").await;
    imap_append(&mut session, "INBOX", "one", false).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user23").await;
    client.expect("STAG", 510).await;
    client.expect("STAG -1", 511).await;
    client.expect("STAG -1 + SEEN", 511).await;
    client.expect("STAG 1 SEEN", 511).await;
    client.expect("STAG 1 + bad/tag", 511).await;
    client.expect("STAG 99 + SEEN", 511).await;
    client.expect("GTAG", 510).await;
    client.expect("GTAG -1", 511).await;
    client.expect("GTAG 99", 511).await;
    assert_eq!(client.expect("STAT", 200).await.lines.last().map(String::as_str), Some("NEW 1"));
    client.expect("STAG 1 + seen", 200).await;
    assert_eq!(client.expect("STAT", 200).await.lines.last().map(String::as_str), Some("NEW 0"));
}

#[tokio::test]
async fn dele_removes_only_that_message() {
    let mut session = imap("user24").await;
    for n in 0..3 {
        imap_append(&mut session, "INBOX", &format!("m{n}"), false).await;
    }
    // Another client marked message 3 \Deleted without expunging it.
    session.select("INBOX").await.expect("SELECT");
    session.run_command_and_check_ok("UID STORE 3 +FLAGS (\\Deleted)").await.expect("STORE");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user24").await;
    client.expect("DELE", 510).await;
    client.expect("DELE 1234", 511).await;
    client.expect("DELE x1", 511).await;
    assert_eq!(client.expect("DELE 1", 200).await.text, "OK Message deleted");
    assert_eq!(uids(&mut client).await, ["2", "3"], "message 3 survives");
    client.expect("DELE 1", 511).await;
}

#[tokio::test]
async fn copy_move_cpyf_movf_between_message_folders() {
    let mut session = imap("user25").await;
    for n in 0..4 {
        imap_append(&mut session, "INBOX", &format!("m{n}"), n == 0).await;
    }
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user25").await;
    client.expect("MAKE FOLD /ARCHIVE_FOLDER", 200).await;
    client.expect("MAKE MESG /ARCHIVE_FOLDER/TODAY", 200).await;
    client.expect("MAKE MESG /ARCHIVE_FOLDER/TODAY/Sub", 200).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("COPY", 510).await;
    client.expect("COPY 1 ARCHIVE_FOLDER/TODAY", 511).await; // relative
    client.expect("COPY 1 /ARCHIVE_FOLDER/1970", 511).await; // missing
    client.expect("COPY 1 /ARCHIVE_FOLDER", 511).await; // a FOLD folder holds no messages
    client.expect("COPY 99 /ARCHIVE_FOLDER/TODAY", 511).await;
    let copied = client.expect("COPY 1 /ARCHIVE_FOLDER/TODAY", 200).await;
    assert_eq!(copied.text, "OK COPY completed (UID 1 in /ARCHIVE_FOLDER/TODAY)");
    client.expect("STAG 2 + FLAG=Blue", 200).await;
    client.expect("MOVE 2 /ARCHIVE_FOLDER/TODAY", 200).await;
    assert_eq!(uids(&mut client).await, ["1", "3", "4"]);
    client.expect("SLCT /ARCHIVE_FOLDER/TODAY", 200).await;
    assert_eq!(uids(&mut client).await, ["1", "2"]);
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["SEEN"], "tags travel with COPY");
    assert_eq!(client.expect("GTAG 2", 200).await.lines, ["FLAG=Blue"], "and with MOVE");
    client.expect("MOVE 2 Sub", 200).await; // MOVE accepts a relative destination
    client.expect("SLCT /INBOX", 200).await;
    client.expect("CPYF", 510).await;
    client.expect("CPYF MISSING", 511).await;
    client.expect("CPYF /ARCHIVE_FOLDER/TODAY/Sub", 200).await;
    client.expect("MOVF /ARCHIVE_FOLDER/TODAY", 200).await;
    assert!(uids(&mut client).await.is_empty());
    client.expect("SLCT /ARCHIVE_FOLDER/TODAY/Sub", 200).await;
    assert_eq!(uids(&mut client).await.len(), 4, "one moved + three copied");
    client.expect("SLCT /ARCHIVE_FOLDER/TODAY", 200).await;
    assert_eq!(uids(&mut client).await.len(), 4, "one copied + three moved");
    assert_eq!(client.expect("LIST", 200).await.lines, ["MESG /ARCHIVE_FOLDER/TODAY/Sub"], "folders stay");
}

#[tokio::test]
async fn example_7_12_spam_reports_set_no_tag() {
    let mut session = imap("user26").await;
    imap_append(&mut session, "INBOX", "V1AGRA", false).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user26").await;
    client.expect("STAG 1 + SPAM", 200).await;
    assert_eq!(client.expect("SPAM 1 header/subject", 200).await.text, "OK Message added to the spam database");
    client.expect("SPAM 1", 200).await;
    client.expect("SPAM 1 body=V1AGRA", 200).await;
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["SPAM"], "SPAM changed no tag");
    client.expect("SPAM", 510).await;
    client.expect("SPAM 1234", 511).await;
    client.expect("MAKE MESG /Archive-SPAM", 200).await;
}

#[tokio::test]
async fn spam_reports_can_move_the_message_to_junk() {
    let mut session = imap("user27").await;
    imap_append(&mut session, "INBOX", "unwanted", false).await;
    let gateway =
        TestGateway::start_with(|config| config.mail.spam_report = agap_gateway::config::SpamReport::MoveToJunk).await;
    let mut client = gateway.login("user27").await;
    client.expect("SPAM 1 header/subject", 200).await;
    assert!(uids(&mut client).await.is_empty());
    client.expect("SLCT /JUNK", 200).await;
    assert_eq!(uids(&mut client).await.len(), 1);
}

/// A message with a text part and three attachments, named by `subject`.
fn with_attachments(subject: &str) -> String {
    format!(
        "From: a@example.com\r\nSubject: {subject}\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n\
        --b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\
        --b\r\nContent-Type: image/png; name=\"b.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAwQF\r\n\
        --b\r\nContent-Type: image/gif; name=\"c.gif\"\r\nContent-Transfer-Encoding: base64\r\n\r\nBgcI\r\n--b--\r\n"
    )
}

fn stat_value(reply: &crate::harness::Reply, key: &str) -> String {
    let prefix = format!("{key} ");
    reply
        .lines
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key}: {reply:?}"))
        .into()
}

/// The IMAP UIDs of the messages whose subject is `subject`, as another client sees them.
async fn imap_uids_with_subject(session: &mut ImapSession, subject: &str) -> Vec<u32> {
    session.select("INBOX").await.expect("SELECT");
    let mut found: Vec<u32> =
        session.uid_search(format!("HEADER Subject \"{subject}\"")).await.expect("SEARCH").into_iter().collect();
    found.sort_unstable();
    found
}

/// The aliases the gateway's store holds for the user's INBOX, as (AGAP UID, IMAP UID).
async fn stored_aliases(gateway: &TestGateway, user: &str) -> Vec<(u32, u32)> {
    let stored = gateway.running.gateway.store.message_aliases(user, "INBOX").await.expect("store");
    stored.map(|s| s.aliases.iter().map(|a| (a.agap_uid, a.imap_uid)).collect()).unwrap_or_default()
}

// docs/interpretations.md, DATT-KEEPS-UID
#[tokio::test]
async fn datt_keeps_the_uid_for_every_command_and_the_ucid() {
    let user = "user91";
    let mut session = imap(user).await;
    for subject in ["first", "second", "third"] {
        crate::harness::imap_append_raw(&mut session, "INBOX", with_attachments(subject).as_bytes()).await;
    }
    let gateway = TestGateway::start().await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /INBOX", 200).await;
    let ucid = stat_value(&client.expect("STAT", 200).await, "UCID");
    assert_eq!(client.expect("DATT 1 1", 200).await.text, "OK Attachment deleted");
    let moved_to = imap_uids_with_subject(&mut session, "first").await;
    assert_eq!(moved_to.len(), 1);
    assert!(moved_to[0] > 3, "upstream the message has a new IMAP UID: {moved_to:?}");
    // A second DATT of the same message: the alias goes straight to the newest version.
    assert_eq!(client.expect("DATT 1 2", 200).await.text, "OK Attachment deleted");
    let stored_as = imap_uids_with_subject(&mut session, "first").await;
    assert_eq!(stored_aliases(&gateway, user).await, [(1, stored_as[0])], "one hop");
    let hidden = stored_as[0].to_string();

    assert_eq!(stat_value(&client.expect("STAT", 200).await, "UCID"), ucid, "the UIDs did not change");
    assert_eq!(uids(&mut client).await, ["1", "2", "3"], "in arrival order, the new IMAP UID never shown");
    let rendering = client.expect("RETR 1", 200).await.lines;
    assert!(rendering.iter().any(|l| l.contains("b.png")), "{rendering:?}");
    assert!(!rendering.iter().any(|l| l.contains("a.pdf") || l.contains("c.gif")), "{rendering:?}");
    assert_eq!(client.expect("RETR 1 /MESSAGE/HEADER/Subject", 200).await.lines, ["first"]);
    for command in ["RETR", "GTAG", "DELE"] {
        client.expect(&format!("{command} {hidden}"), 511).await;
    }
    client.expect("DATT 2 1", 200).await; // another message, another alias
    assert_eq!(uids(&mut client).await, ["1", "2", "3"]);

    // Filters: UID ranges and the UIDs they find are AGAP UIDs.
    assert_eq!(client.filtered("FIND", &["UID 1:2"]).await.lines, ["1", "2"]);
    assert_eq!(client.filtered("FIND", &["UID 2:3"]).await.lines, ["2", "3"]);
    assert_eq!(client.filtered("FIND", &["NOT UID 1"]).await.lines, ["2", "3"]);
    assert!(client.filtered("FIND", &[&format!("UID 4:{hidden}")]).await.lines.is_empty(), "the places are hidden");
    assert_eq!(client.filtered("FIND", &["IS header/Subject = 'first'"]).await.lines, ["1"]);
    assert_eq!(client.filtered("FIND", &["REGEX /MESSAGE/TEXT = 'See' UID 1"]).await.lines, ["1"]);
    assert_eq!(client.filtered("FTAG + FLAG=Red", &["UID 1"]).await.text, "OK FTAG completed (1 match)");
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["FLAG=Red"]);
    client.expect("STAG 1 + SEEN", 200).await;
    assert_eq!(client.filtered("FIND", &["TAG SEEN"]).await.lines, ["1"]);
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["FLAG=Red", "SEEN"]);

    // Copies are new items with new UIDs of their own.
    client.expect("MAKE MESG /Kept", 200).await;
    assert_eq!(client.expect("COPY 1 /Kept", 200).await.text, "OK COPY completed (UID 1 in /Kept)");

    // A FILT folder over the INBOX lists the message under its UID.
    client.expect("MAKE FILT /Seen", 200).await;
    client.expect("SLCT /Seen", 200).await;
    let definition =
        ["<FILTER>", "<FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS>", "<RULES><TAG>SEEN</TAG></RULES>", "</FILTER>"];
    client.stor(&definition).await;
    assert_eq!(client.expect("FIND", 200).await.lines, ["1 /INBOX"]);

    client.expect("SLCT /INBOX", 200).await;
    assert_eq!(client.expect("DELE 1", 200).await.text, "OK Message deleted");
    assert!(imap_uids_with_subject(&mut session, "first").await.is_empty(), "deleted upstream");
    assert_eq!(uids(&mut client).await, ["2", "3"]);
    assert_eq!(stored_aliases(&gateway, user).await.iter().map(|(agap, _)| *agap).collect::<Vec<_>>(), [2]);
    client.expect("RETR 1", 511).await;
    assert_eq!(client.filtered("FMOV /Kept", &["UID 2"]).await.text, "OK FMOV completed (1 match)");
    assert_eq!(stored_aliases(&gateway, user).await, [], "moved away, the alias goes");
    assert_eq!(uids(&mut client).await, ["3"]);
    assert_eq!(stat_value(&client.expect("STAT", 200).await, "UCID"), ucid);
}

// docs/interpretations.md, DATT-KEEPS-UID
#[tokio::test]
async fn without_its_aliases_a_folder_gets_a_new_ucid_and_loses_no_message() {
    let user = "user92";
    let mut session = imap(user).await;
    for subject in ["first", "second"] {
        crate::harness::imap_append_raw(&mut session, "INBOX", with_attachments(subject).as_bytes()).await;
    }
    let gateway = TestGateway::start().await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("DATT 1 1", 200).await;
    let ucid = stat_value(&client.expect("STAT", 200).await, "UCID");
    let stored_as = imap_uids_with_subject(&mut session, "first").await[0].to_string();

    // Another instance with an empty store: the message is there under its IMAP UID, and the
    // UCID tells clients that UIDs changed.
    let other = TestGateway::start().await;
    let mut elsewhere = other.login(user).await;
    elsewhere.expect("SLCT /INBOX", 200).await;
    assert_ne!(stat_value(&elsewhere.expect("STAT", 200).await, "UCID"), ucid);
    assert_eq!(uids(&mut elsewhere).await, ["2", stored_as.as_str()]);
    elsewhere.expect(&format!("RETR {stored_as}"), 200).await;

    // The same store without its aliases (but with its change counters): a new UCID as well.
    gateway.running.gateway.store.forget_message_aliases(user, "INBOX").await.expect("forget");
    assert_ne!(stat_value(&client.expect("STAT", 200).await, "UCID"), ucid);
    assert_eq!(uids(&mut client).await, ["2", stored_as.as_str()]);
}

// docs/interpretations.md, DATT-KEEPS-UID
#[tokio::test]
async fn an_alias_goes_when_another_client_expunges_its_message() {
    let user = "user93";
    let mut session = imap(user).await;
    for subject in ["first", "second"] {
        crate::harness::imap_append_raw(&mut session, "INBOX", with_attachments(subject).as_bytes()).await;
    }
    // One IMAP connection, so that the first command after the expunge brings its news.
    let gateway = TestGateway::start_with(|config| config.imap.max_connections_per_user = 1).await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("DATT 1 1", 200).await;
    client.expect("DATT 2 1", 200).await;
    assert_eq!(stored_aliases(&gateway, user).await.len(), 2);
    let first = imap_uids_with_subject(&mut session, "first").await[0];
    let second = imap_uids_with_subject(&mut session, "second").await[0];
    session
        .run_command_and_check_ok(format!("UID STORE {first},{second} +FLAGS.SILENT (\\Deleted)"))
        .await
        .expect("STORE");
    session.run_command_and_check_ok("EXPUNGE").await.expect("EXPUNGE");
    // A listing drops the alias of a message it no longer finds. The gateway's IMAP connection
    // may learn of the expunge only after the first command (RFC 3501 7.4.1).
    uids(&mut client).await;
    assert!(uids(&mut client).await.is_empty());
    assert_eq!(stored_aliases(&gateway, user).await, []);
    client.expect("RETR 1", 511).await;
}

// docs/interpretations.md, DATT-KEEPS-UID
#[tokio::test]
async fn a_read_that_misses_drops_the_alias() {
    let user = "user94";
    let mut session = imap(user).await;
    crate::harness::imap_append_raw(&mut session, "INBOX", with_attachments("only").as_bytes()).await;
    // One IMAP connection, so that the first command after the expunge brings its news.
    let gateway = TestGateway::start_with(|config| config.imap.max_connections_per_user = 1).await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("DATT 1 1", 200).await;
    let stored_as = imap_uids_with_subject(&mut session, "only").await[0];
    session.run_command_and_check_ok(format!("UID STORE {stored_as} +FLAGS.SILENT (\\Deleted)")).await.expect("STORE");
    session.run_command_and_check_ok("EXPUNGE").await.expect("EXPUNGE");
    assert_eq!(stored_aliases(&gateway, user).await.len(), 1);
    // The gateway's IMAP connection may learn of the expunge only after the first command
    // (RFC 3501 7.4.1), which may still see the message (Cyrus) or see it emptied (Dovecot).
    client.command("RETR 1").await;
    client.expect("RETR 1", 511).await;
    assert_eq!(stored_aliases(&gateway, user).await, []);
}
