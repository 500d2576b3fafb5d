//! The draft's examples 7.1 and 7.15, which need messages in INBOX first. Examples 7.2, 7.4 and
//! 7.14 are golden transcripts (integration/transcripts).

use crate::harness::{TestGateway, imap, imap_append};

async fn inbox_with(user: &str, seen: usize, unseen: usize) {
    let mut session = imap(user).await;
    for n in 0..seen + unseen {
        imap_append(&mut session, "INBOX", &format!("message {n}"), n < seen).await;
    }
}

fn without_change_ids(lines: &[String]) -> Vec<String> {
    // FCID and UCID are reported too (docs/interpretations.md, STAT-FCID); the figures omit them.
    lines.iter().filter(|line| !line.starts_with("FCID ") && !line.starts_with("UCID ")).cloned().collect()
}

#[tokio::test]
async fn example_7_1_successful_connection_and_authentication() {
    inbox_with("user13", 8, 2).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect("USER user13", 200).await;
    client.expect("PASS pass-user13", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat.text, "OK Folder status displayed");
    assert_eq!(without_change_ids(&stat.lines), ["PATH /INBOX", "TYPE MESG", "TAGS RESERVED", "TOTAL 10", "NEW 2"]);
    assert!(
        stat.lines.iter().any(|line| line.starts_with("FCID ")) && stat.lines.iter().any(|l| l.starts_with("UCID "))
    );
}

#[tokio::test]
async fn example_7_15_find_the_status_for_a_folder() {
    inbox_with("user15", 5, 5).await;
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user15").await;
    let list = client.expect("LIST /*", 200).await;
    for line in ["MESG /INBOX", "MESG /TRASH"] {
        assert!(list.lines.contains(&line.to_owned()), "{list:?}");
    }
    assert!(list.text.starts_with("OK LIST completed ("), "{list:?}");
    client.expect("SLCT /INBOX", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(without_change_ids(&stat.lines), ["PATH /INBOX", "TYPE MESG", "TAGS RESERVED", "TOTAL 10", "NEW 5"]);
}
