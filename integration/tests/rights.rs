//! Folder tags from IMAP rights (RFC 4314): a mailbox the user may only read is READ-ONLY,
//! NO-DELETE, NO-MOVE, NO-DELF, NO-RENAME and NO-FOLDERS, and every command those tags forbid
//! (draft 2.10.2) is refused with 511 before the server would refuse it.

use async_imap::imap_proto::Response;

use crate::harness::{ImapSession, TestGateway, imap, imap_append};

/// Takes rights away from the user on its own mailbox: `SETACL` for the user's own identifier
/// (RFC 4314 identifiers are user names; Dovecot's `owner` is its own extension), then returns
/// the rights the server says the user has now (`MYRIGHTS`). Servers may keep some rights for
/// the owner whatever the ACL says (RFC 4314 2.2; Cyrus keeps `lkxan` by default).
async fn restrict(session: &mut ImapSession, user: &str, mailbox: &str, rights: &str) -> String {
    // A server may also refuse an ACL that takes the owner's administer right away (Cyrus does):
    // then the same rights plus "a".
    if session.run_command_and_check_ok(format!("SETACL {mailbox} {user} {rights}")).await.is_err() {
        session.run_command_and_check_ok(format!("SETACL {mailbox} {user} {rights}a")).await.expect("SETACL");
    }
    let tag = session.run_command(format!("MYRIGHTS {mailbox}")).await.expect("MYRIGHTS");
    let mut granted = None;
    loop {
        let response = session.read_response().await.expect("MYRIGHTS answer").expect("an open connection");
        match response.parsed() {
            Response::MyRights(found) => granted = Some(found.rights.iter().map(|right| char::from(*right)).collect()),
            Response::Done { tag: done, .. } if *done == tag => break,
            _ => {}
        }
    }
    granted.expect("a MYRIGHTS answer")
}

#[tokio::test]
async fn a_read_only_mailbox_carries_the_tags_and_they_are_enforced() {
    let mut session = imap("user37").await;
    session.create("Shared").await.expect("CREATE");
    imap_append(&mut session, "Shared", "kept", false).await;
    imap_append(&mut session, "INBOX", "mine", false).await;
    // The owner keeps lookup and read (and what the server always keeps for the owner).
    let rights = restrict(&mut session, "user37", "Shared", "lr").await;
    // Without "x" (delete mailbox) and "k" (create), the folder cannot be deleted, renamed or
    // given subfolders; a server that keeps them for the owner leaves those allowed.
    let keeps_delete = rights.contains('x');
    let keeps_create = rights.contains('k');
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user37").await;
    client.expect("SLCT /Shared", 200).await;
    let tags = client.expect("STAT", 200).await.lines.into_iter().find(|l| l.starts_with("TAGS")).expect("TAGS");
    let mut expected = vec!["TAGS", "READ-ONLY", "NO-DELETE", "NO-MOVE"];
    if !keeps_delete {
        expected.extend(["NO-DELF", "NO-RENAME"]);
    }
    if !keeps_create {
        expected.push("NO-FOLDERS");
    }
    assert_eq!(tags, expected.join(" "), "rights {rights}");
    assert_eq!(client.expect("RETR 1 /MESSAGE/HEADER/subject", 200).await.lines, ["kept"], "reading works");
    client.expect("STOR", 511).await;
    client.expect("STAG 1 + SEEN", 511).await;
    client.expect("DATT 1 1", 511).await;
    client.expect("DELE 1", 511).await;
    client.expect("MOVE 1 /INBOX", 511).await;
    client.expect("MOVF /INBOX", 511).await;
    client.expect("COPY 1 /INBOX", 200).await; // copying out only reads
    if !keeps_delete {
        client.expect("NAME Renamed", 511).await;
        client.expect("DELF", 511).await;
    }
    if !keeps_create {
        client.expect("MAKE MESG /Shared/Sub", 511).await;
        client.expect("MAKE MESG Sub", 511).await;
    }
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
    let rights = restrict(&mut session, "user38", "Keep", "lrswitek").await; // no x
    if rights.contains('x') {
        // RFC 4314 2.2: this server keeps "x" for the owner whatever the ACL says, so a folder of
        // one's own is never NO-DELF here (rights::a_read_only_mailbox... checks that DELF is then
        // not refused).
        eprintln!("the server keeps the owner's delete right ({rights}); nothing to test");
        return;
    }
    session.create("Parent").await.expect("CREATE");
    session.create("Parent/Child").await.expect("CREATE");
    restrict(&mut session, "user38", "Parent/Child", "lrswitek").await;
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
