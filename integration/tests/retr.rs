//! RETR (draft 4.34, 2.11.8; example 7.6): renderings, part paths, line limits.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{TestGateway, imap, imap_append_raw};

const NEWSLETTER: &str = "From: HCCP <news@example.com>\r\nTo: newsletter@localhost.localdomain\r\n\
    Subject: Newsletter from Example.com\r\nReceived: from a by b\r\nReceived: from c by d\r\n\
    Date: Mon, 6 Jun 2005 22:21:22 +0200\r\n\r\nThis is your weekly newsletter.\r\n";

fn decode_base64_lines(lines: &[String]) -> Vec<u8> {
    STANDARD.decode(lines.concat()).expect("base64")
}

#[tokio::test]
async fn example_7_6_retrieve_a_message_and_its_parts() {
    let mut session = imap("user28").await;
    imap_append_raw(&mut session, "INBOX", NEWSLETTER.as_bytes()).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user28").await;
    let reply = client.expect("RETR 1", 200).await;
    assert_eq!(reply.text, "OK RETR completed");
    assert_eq!(
        reply.lines,
        [
            "<MESSAGE>",
            "<HEADER>",
            "<From>HCCP &lt;news@example.com&gt;</From>",
            "<To>newsletter@localhost.localdomain</To>",
            "<Subject>Newsletter from Example.com</Subject>",
            "<Received>",
            "<item>from a by b</item>",
            "<item>from c by d</item>",
            "</Received>",
            "<Date>Mon, 6 Jun 2005 22:21:22 +0200</Date>",
            "</HEADER>",
            "<TEXT>This is your weekly newsletter.",
            "</TEXT>",
            "</MESSAGE>"
        ]
    );
    for path in ["/MESSAGE/HEADER/subject", "header/subject", "/HEADER/SUBJECT"] {
        assert_eq!(client.expect(&format!("RETR 1 {path}"), 200).await.lines, ["Newsletter from Example.com"]);
    }
    assert_eq!(client.expect("RETR 1 /MESSAGE/HEADER/received", 200).await.lines, ["from a by b", "from c by d"]);
    assert_eq!(client.expect("RETR 1 /MESSAGE/TEXT", 200).await.lines, ["This is your weekly newsletter.", ""]);
    client.expect("RETR", 510).await;
    client.expect("RETR WrongUID", 511).await;
    client.expect("RETR 99", 511).await;
    client.expect("RETR 1 ABC", 511).await;
    client.expect("RETR 1 /MESSAGE/NOPE", 511).await;
    client.expect("RETR 1 /MESSAGE/HEADER/x-not-there", 511).await; // RETR-MISSING-PART
    client.expect("RETR 1 /MESSAGE/ATTACHMENT-1/BODY", 511).await;
}

#[tokio::test]
async fn long_lines_and_large_attachments_stay_within_the_line_limit() {
    let long_line = "L".repeat(5000);
    let attachment: Vec<u8> = (0..200 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let message = format!(
        "From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"xyz\"\r\n\r\n\
         --xyz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{long_line}\r\n\
         --xyz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--xyz--\r\n",
        STANDARD
            .encode(&attachment)
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    );
    let mut session = imap("user29").await;
    imap_append_raw(&mut session, "INBOX", message.as_bytes()).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user29").await;
    client.send("RETR 1").await;
    let mut raw_lines = Vec::new();
    loop {
        let line = client.read_line().await.expect("a line");
        let done = !line.starts_with('.');
        raw_lines.push(line);
        if done {
            break;
        }
    }
    assert!(raw_lines.last().is_some_and(|l| l.starts_with("200 ")), "{:?}", raw_lines.last());
    assert!(raw_lines.iter().all(|line| line.chars().count() < 1024), "a line exceeds 1024 with its LF");
    let lines: Vec<String> = raw_lines[..raw_lines.len() - 1].iter().map(|l| l[1..].to_owned()).collect();
    let text_start = lines.iter().position(|l| l == "<TEXT ENCODED=\"base64\">").expect("TEXT in base64");
    let text_end = text_start + lines[text_start..].iter().position(|l| l.ends_with("</TEXT>")).expect("end");
    let mut text_b64: Vec<String> = lines[text_start + 1..=text_end].to_vec();
    if let Some(last) = text_b64.last_mut() {
        *last = last.trim_end_matches("</TEXT>").to_owned();
    }
    assert_eq!(String::from_utf8(decode_base64_lines(&text_b64)).expect("utf-8").trim_end(), long_line);
    let body = client.expect("RETR 1 /MESSAGE/ATTACHMENT-1/BODY", 200).await;
    assert_eq!(body.text, "OK RETR completed (base64)");
    assert_eq!(decode_base64_lines(&body.lines), attachment);
    let text = client.expect("RETR 1 /MESSAGE/BODY/TEXT", 200).await;
    assert_eq!(text.text, "OK RETR completed (base64)", "a 5,000-character line cannot go out as is");
}
