//! STOR and SUID (draft 4.39, 4.40; examples 7.9), and the corpus round trip: every message
//! of integration/corpus/mail is APPENDed raw, RETRieved, STORed into another folder and
//! RETRieved again; the two renderings must be identical.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::{Client, TestGateway, imap};

async fn stor(client: &mut Client, lines: &[String]) -> crate::harness::Reply {
    client.expect("STOR", 110).await;
    for line in lines {
        client.send(line).await;
    }
    client.command("").await
}

fn lines(xml: &str) -> Vec<String> {
    xml.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn example_7_9_store_a_message_and_suid() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user31").await;
    client.expect("SLCT /OUTBOX", 200).await;
    assert_eq!(client.expect("SUID", 200).await.lines, Vec::<String>::new());
    // The figure's <from> is not well-formed XML (docs/interpretations.md, EXAMPLE-7.9-XML): 511.
    let verbatim = lines(
        "<MESSAGE><HEADER>\n<from>HCCP<&lt;news@example.com&&gt;</from>\n<to>newsletter@localhost.localdomain</to>\n\
         <subject>HCCP Newsletter</subject>\n</HEADER>\n<TEXT>This is your weekly newsletter.</TEXT>\n</MESSAGE>",
    );
    assert_eq!(stor(&mut client, &verbatim).await.code, 511);
    assert!(client.expect("SUID", 200).await.lines.is_empty(), "a failed STOR leaves no UID");
    let corrected = lines(
        "<MESSAGE><HEADER>\n<from>HCCP &lt;news@example.com&gt;</from>\n<to>newsletter@localhost.localdomain</to>\n\
         <subject>HCCP Newsletter</subject>\n</HEADER>\n<TEXT>This is your weekly newsletter.</TEXT>\n</MESSAGE>",
    );
    let stored = stor(&mut client, &corrected).await;
    assert_eq!((stored.code, stored.text.as_str()), (200, "OK Message stored (UID is 1)"));
    let suid = client.expect("SUID", 200).await;
    assert_eq!((suid.lines, suid.text.as_str()), (vec!["1".to_owned()], "OK SUID completed; found 1"));
    let retr = client.expect("RETR 1", 200).await.lines;
    assert!(retr.contains(&"<from>HCCP &lt;news@example.com&gt;</from>".to_owned()), "{retr:?}");
    assert!(retr.iter().any(|l| l.starts_with("<Date>")) && retr.iter().any(|l| l.starts_with("<Message-ID>")));
    assert!(retr.contains(&"<TEXT>This is your weekly newsletter.</TEXT>".to_owned()), "{retr:?}");
    client.expect("SLCT /OUTBOX", 200).await;
    assert!(client.expect("SUID", 200).await.lines.is_empty(), "SLCT forgets the UID");
    client.expect("SUID now", 510).await;
    client.expect("SLCT /missing", 511).await;
    client.expect("SUID", 511).await; // not selected (Fig 139)
}

#[tokio::test]
async fn bad_or_empty_content_stores_nothing_and_the_session_goes_on() {
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 4096).await;
    let mut client = gateway.login("user32").await;
    let empty = stor(&mut client, &[]).await;
    assert_eq!((empty.code, empty.text.as_str()), (200, "OK Message not stored as it was empty"));
    for bad in ["msg", "<MESSAGE><HEADER>", "<VCARD><FN>x</FN></VCARD>", "<!DOCTYPE m [<!ENTITY x \"y\">]><MESSAGE/>"] {
        assert_eq!(stor(&mut client, &[bad.to_owned()]).await.code, 511, "{bad}");
    }
    // Content lines are never commands, even when they look like one.
    assert_eq!(stor(&mut client, &["QUIT".to_owned(), "DELF".to_owned()]).await.code, 511);
    let too_big: Vec<String> = std::iter::once("<MESSAGE><TEXT>".to_owned())
        .chain((0..100).map(|n| format!("line {n} {}", "x".repeat(60))))
        .chain(std::iter::once("</TEXT></MESSAGE>".to_owned()))
        .collect();
    let refused = stor(&mut client, &too_big).await;
    assert_eq!(refused.code, 511, "{refused:?}");
    assert!(refused.text.contains("larger than 4096"), "{refused:?}");
    client.expect("MAKE FOLD /Folder-only", 200).await;
    client.expect("SLCT /Folder-only", 200).await;
    client.expect("STOR", 511).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("FIND", 110).await;
    assert!(client.expect("", 200).await.lines.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_content_stores_nothing() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user33").await;
    client.expect("STOR", 110).await;
    client.send("<MESSAGE><HEADER><subject>half</subject></HEADER>").await;
    drop(client);
    let mut client = gateway.login("user33").await;
    client.expect("FIND", 110).await;
    assert!(client.expect("", 200).await.lines.is_empty());
}

/// integration/fidelity-exceptions.tsv: corpus name (`mail/...`, below integration/corpus), TAB,
/// the reason.
/// Bare LF made CR LF (CR LF kept).
fn crlf_line_ends(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40);
    for (index, byte) in raw.iter().enumerate() {
        if *byte == b'\n' && (index == 0 || raw[index - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*byte);
    }
    out
}

/// The documented exceptions that apply to the pair's mail server: `path TAB reason` applies to
/// every server, `path TAB mail=<server> TAB reason` to that one only (its refusals of what the
/// test appends, not the gateway's doing).
fn exceptions() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/fidelity-exceptions.tsv"))
            .expect("integration/fidelity-exceptions.tsv");
    let server = format!("mail={}", crate::harness::mail_server_name());
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (path, rest) = line.split_once('\t')?;
            match rest.split_once('\t') {
                Some((scope, reason)) if scope.starts_with("mail=") => {
                    (scope == server).then(|| (path.to_owned(), reason.to_owned()))
                }
                _ => Some((path.to_owned(), rest.to_owned())),
            }
        })
        .collect()
}

/// A rendering without the Date and Message-ID that STOR adds to a message lacking them
/// (docs/interpretations.md, ROUND-TRIP).
fn comparable(copy: &[String], original: &[String]) -> Vec<String> {
    let has = |prefix: &str| original.iter().any(|l| l.to_ascii_lowercase().starts_with(prefix));
    let (had_date, had_id) = (has("<date>"), has("<message-id>"));
    copy.iter()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            (had_date || !lower.starts_with("<date>")) && (had_id || !lower.starts_with("<message-id>"))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_corpus_message_survives_retr_stor_retr() {
    let files = crate::harness::corpus_files("mail");
    assert!(files.len() >= 200, "corpus missing");
    let mut session = imap("user34").await;
    session.create("Originals").await.expect("CREATE");
    let mut appended = Vec::new();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let name = crate::harness::corpus_name(file);
        let raw = std::fs::read(file).expect("read");
        // Many corpus files end their lines in LF alone, which RFC 5322 does not allow: a server
        // may refuse them (Cyrus does), and then gets them with CR LF line ends.
        let appended_as_is = session.append("Originals", None, None, &raw).await;
        let result = match appended_as_is {
            Err(_) if raw.contains(&b'\n') => session.append("Originals", None, None, &crlf_line_ends(&raw)).await,
            other => other,
        };
        match result {
            Ok(()) => appended.push((name, index)),
            Err(error) => {
                failures.insert(name, format!("APPEND refused by the server: {error}"));
            }
        }
    }
    drop(session);
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user34").await;
    client.expect("MAKE MESG /Copies", 200).await;
    client.expect("SLCT /Originals", 200).await;
    let uids = {
        client.expect("FIND", 110).await;
        client.expect("", 200).await.lines
    };
    assert_eq!(uids.len(), appended.len());
    let mut identical = 0;
    for ((name, _), uid) in appended.iter().zip(&uids) {
        client.expect("SLCT /Originals", 200).await;
        let original = client.command(&format!("RETR {uid}")).await;
        if original.code != 200 {
            failures.insert(name.clone(), format!("RETR of the original: {} {}", original.code, original.text));
            continue;
        }
        client.expect("SLCT /Copies", 200).await;
        let stored = stor(&mut client, &original.lines).await;
        if stored.code != 200 {
            failures.insert(name.clone(), format!("STOR: {} {}", stored.code, stored.text));
            continue;
        }
        let copy_uid = client.expect("SUID", 200).await.lines.pop().expect("the stored UID");
        let copy = client.expect(&format!("RETR {copy_uid}"), 200).await;
        let copy_lines = comparable(&copy.lines, &original.lines);
        if copy_lines == original.lines {
            identical += 1;
        } else {
            let at = original
                .lines
                .iter()
                .zip(&copy_lines)
                .position(|(a, b)| a != b)
                .unwrap_or(original.lines.len().min(copy_lines.len()));
            let show =
                |lines: &[String]| lines.get(at).map(|l| l.chars().take(100).collect::<String>()).unwrap_or_default();
            failures
                .insert(name.clone(), format!("line {at}: {:?} became {:?}", show(&original.lines), show(&copy_lines)));
        }
    }
    println!("corpus round trip: {identical} of {} messages identical", files.len());
    let documented = exceptions();
    let undocumented: Vec<String> = failures
        .iter()
        .filter(|(name, _)| !documented.contains_key(*name))
        .map(|(name, why)| format!("{name}: {why}"))
        .collect();
    let fixed: Vec<&String> = documented.keys().filter(|name| !failures.contains_key(*name)).collect();
    for (name, why) in &failures {
        println!("  exception {name}: {why}");
    }
    assert!(undocumented.is_empty(), "undocumented round-trip failures:\n{}", undocumented.join("\n"));
    assert!(fixed.is_empty(), "listed as exceptions but now identical (update the list): {fixed:?}");
}

#[tokio::test]
async fn datt_removes_one_attachment_keeps_the_rest_and_the_tags() {
    let message = "From: a@example.com\r\nSubject: three parts\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n\
        --b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\
        --b\r\nContent-Type: image/png; name=\"b.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAwQF\r\n--b--\r\n";
    let mut session = imap("user35").await;
    session.append("INBOX", None, None, message.as_bytes()).await.expect("APPEND");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user35").await;
    client.expect("STAG 1 + SEEN FLAG=Red", 200).await;
    client.expect("DATT", 510).await;
    client.expect("DATT 1", 511).await;
    client.expect("DATT 1 0", 511).await;
    client.expect("DATT 1 x", 511).await;
    client.expect("DATT 99 1", 511).await;
    assert_eq!(client.expect("DATT 1 10", 521).await.text, "ERROR There are not so many attachments (2)");
    let reply = client.expect("DATT 1 1", 200).await;
    assert_eq!(reply.text, "OK Attachment deleted", "the message keeps its UID (DATT-KEEPS-UID)");
    client.expect("RETR 2", 511).await;
    let rendering = client.expect("RETR 1", 200).await.lines;
    assert!(
        rendering.iter().any(|l| l.contains("b.png")) && !rendering.iter().any(|l| l.contains("a.pdf")),
        "{rendering:?}"
    );
    assert!(rendering.contains(&"<ATTACHMENT-1>".to_owned()) && !rendering.contains(&"<ATTACHMENT-2>".to_owned()));
    assert_eq!(client.expect("GTAG 1", 200).await.lines, ["FLAG=Red", "SEEN"], "tags survive");
    client.expect("FIND", 110).await;
    assert_eq!(client.expect("", 200).await.lines, ["1"]);
}
