//! Folder tags from IMAP rights (RFC 4314): a mailbox the user may only read is READ-ONLY,
//! NO-DELETE, NO-MOVE, NO-DELF, NO-RENAME and NO-FOLDERS, and every command those tags forbid
//! (draft 2.10.2) is refused with 511 before the server would refuse it.

use crate::harness::{TestGateway, imap, imap_append};

#[tokio::test]
async fn a_read_only_mailbox_carries_the_tags_and_they_are_enforced() {
    let mut session = imap("user37").await;
    session.create("Shared").await.expect("CREATE");
    imap_append(&mut session, "Shared", "kept", false).await;
    imap_append(&mut session, "INBOX", "mine", false).await;
    // The owner keeps lookup, read and administer (Dovecot always keeps "a" for the owner).
    session.run_command_and_check_ok("SETACL Shared owner lr").await.expect("SETACL");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user37").await;
    client.expect("SLCT /Shared", 200).await;
    let tags = client.expect("STAT", 200).await.lines.into_iter().find(|l| l.starts_with("TAGS")).expect("TAGS");
    assert_eq!(tags, "TAGS READ-ONLY NO-DELETE NO-MOVE NO-DELF NO-RENAME NO-FOLDERS");
    assert_eq!(client.expect("RETR 1 /MESSAGE/HEADER/subject", 200).await.lines, ["kept"], "reading works");
    client.expect("STOR", 511).await;
    client.expect("STAG 1 + SEEN", 511).await;
    client.expect("DATT 1 1", 511).await;
    client.expect("DELE 1", 511).await;
    client.expect("MOVE 1 /INBOX", 511).await;
    client.expect("MOVF /INBOX", 511).await;
    client.expect("COPY 1 /INBOX", 200).await; // copying out only reads
    client.expect("NAME Renamed", 511).await;
    client.expect("MAKE MESG /Shared/Sub", 511).await;
    client.expect("MAKE MESG Sub", 511).await;
    client.expect("DELF", 511).await;
    client.expect("SLCT /INBOX", 200).await;
    client.expect("COPY 1 /Shared", 511).await; // nothing goes in
    client.expect("CPYF /Shared", 511).await;
    client.expect("SLCT /Shared", 200).await;
    client.expect("FIND", 110).await;
    assert_eq!(client.expect("", 200).await.lines, ["1"], "nothing was deleted or added");
}

#[tokio::test]
async fn delf_on_a_no_delf_folder_deletes_only_its_content() {
    let mut session = imap("user38").await;
    session.create("Keep").await.expect("CREATE");
    imap_append(&mut session, "Keep", "a", false).await;
    imap_append(&mut session, "Keep", "b", false).await;
    session.run_command_and_check_ok("SETACL Keep owner lrswitek").await.expect("SETACL"); // no x
    session.create("Parent").await.expect("CREATE");
    session.create("Parent/Child").await.expect("CREATE");
    session.run_command_and_check_ok("SETACL Parent/Child owner lrswitek").await.expect("SETACL");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user38").await;
    client.expect("SLCT /Keep", 200).await;
    let reply = client.expect("DELF", 200).await;
    assert!(reply.text.contains("NO-DELF"), "{reply:?}");
    assert!(client.expect("LIST /*", 200).await.lines.contains(&"MESG /Keep".to_owned()), "the folder stays");
    client.expect("SLCT /Keep", 200).await;
    client.expect("FIND", 110).await;
    assert!(client.expect("", 200).await.lines.is_empty(), "its messages are gone");
    // A protected child stops the parent's DELF before anything is deleted.
    client.expect("SLCT /Parent", 200).await;
    let refused = client.expect("DELF", 511).await;
    assert!(refused.text.contains("/Parent/Child is NO-DELF"), "{refused:?}");
    assert_eq!(client.expect("LIST /Parent/*", 200).await.lines, ["MESG /Parent/Child"]);
}
