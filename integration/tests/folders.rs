//! The folder tree over IMAP: LIST, MAKE, SLCT, NAME, DELF, STAT, CHNG (draft 2.6, 2.7, 2.9,
//! 4.13, 4.18, 4.27, 4.28, 4.31, 4.35, 4.38), checked against what a plain IMAP client sees.

use std::cmp::Ordering;

use agap_gateway::ids;

use crate::harness::{Client, TestGateway, dovecot, imap, imap_append, imap_mailboxes, imap_on, records_upstream};

fn stat_field(reply: &crate::harness::Reply, name: &str) -> Option<String> {
    reply.lines.iter().find_map(|line| line.strip_prefix(&format!("{name} ")).map(str::to_owned))
}

async fn fcids(client: &mut Client) -> std::collections::HashMap<String, String> {
    let reply = client.expect("CHNG", 200).await;
    reply
        .lines
        .iter()
        .map(|line| {
            let (fcid, path) = line.split_once(' ').expect("FCID path");
            assert!(ids::is_valid(fcid), "{line}");
            (path.to_owned(), fcid.to_owned())
        })
        .collect()
}

fn grew(before: &str, after: &str) -> bool {
    ids::compare(before, after) == Ordering::Less
}

#[tokio::test]
async fn reserved_folders_exist_after_login_and_are_protected() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user01").await;
    let list = client.expect("LIST /*", 200).await;
    for name in ["INBOX", "SENT", "DRAFT", "TRASH", "JUNK", "OUTBOX"] {
        assert!(list.lines.contains(&format!("MESG /{name}")), "{name} missing from {list:?}");
    }
    let mut session = imap("user01").await;
    let upstream = imap_mailboxes(&mut session).await;
    for name in ["Drafts", "INBOX", "Junk", "Outbox", "Sent", "Trash"] {
        assert!(upstream.contains(&name.to_owned()), "{name} not created upstream: {upstream:?}");
    }
    client.expect("SLCT /SENT", 200).await;
    assert_eq!(stat_field(&client.expect("STAT", 200).await, "TAGS").as_deref(), Some("RESERVED"));
    client.expect("NAME Sent-Renamed", 511).await;
    client.expect("DELF", 511).await;
    client.expect("MAKE MESG /SENT/sub", 511).await;
    client.expect("MAKE MESG /TRASH/kept-folder", 200).await; // TRASH accepts subfolders (TRASH-SUBFOLDERS)
    for reserved in ["SENT", "CALENDAR", "CONTACT", "NOTE"] {
        client.expect(&format!("MAKE MESG /{reserved}"), 511).await;
    }
    client.expect("MAKE MESG /sent", 200).await; // names are case-sensitive (FOLDER-CASE) ...
    client.expect("SLCT /inbox", 511).await; // ... in both directions
}

#[tokio::test]
async fn make_creates_mailboxes_a_mail_client_sees() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user02").await;
    client.expect("MAKE MESG /Projects", 200).await;
    client.expect("MAKE mmsg /Projects/2026", 200).await; // other spellings of the type
    client.expect("MAKE MSG /Projects/2027", 200).await;
    client.expect("MAKE FOLD /Archive", 200).await;
    client.expect("MAKE MESG /Archive/2010", 200).await;
    let list = client.expect("LIST /*", 200).await;
    assert!(list.lines.contains(&"MESG /Projects".to_owned()), "{list:?}");
    assert!(list.lines.contains(&"FOLD /Archive".to_owned()), "{list:?}");
    assert_eq!(client.expect("LIST /Projects/*", 200).await.lines, ["MESG /Projects/2026", "MESG /Projects/2027"]);
    assert_eq!(client.expect("LIST /Projects/2026", 200).await.lines, ["MESG /Projects/2026"]);

    let mut session = imap("user02").await;
    let upstream = imap_mailboxes(&mut session).await;
    for name in ["Projects", "Projects/2026", "Projects/2027", "Archive", "Archive/2010"] {
        assert!(upstream.contains(&name.to_owned()), "{name} not upstream: {upstream:?}");
    }

    client.expect("SLCT /Archive", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat_field(&stat, "TYPE").as_deref(), Some("FOLD"));
    assert_eq!(stat_field(&stat, "UCID"), None, "FOLD folders hold no items");
    assert_eq!(stat_field(&stat, "TOTAL"), None);
    // Relative paths resolve against the selected folder.
    client.expect("MAKE MESG 2011", 200).await;
    assert_eq!(client.expect("LIST", 200).await.lines, ["MESG /Archive/2010", "MESG /Archive/2011"]);
    assert_eq!(client.expect("LIST 201*", 200).await.lines.len(), 2);
}

#[tokio::test]
async fn make_refuses_what_section_4_28_refuses() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user03").await;
    client.expect("MAKE", 510).await;
    client.expect("MAKE 1234", 511).await;
    client.expect("MAKE new 1234", 511).await;
    client.expect("MAKE CALE /Calendar-2", 511).await; // not served by this gateway yet
    client.expect("MAKE MESG /INBOX/1234", 511).await; // reserved folders take no subfolders
    client.expect("MAKE MESG /missing/child", 511).await; // parents are not created implicitly
    client.expect("MAKE MESG /", 511).await;
    for bad in ["/a*b", "/what?", "/back\\slash", "/.", "/..", "/a//b", "/tab\there"] {
        client.expect(&format!("MAKE MESG {bad}"), 511).await;
    }
    client.expect("MAKE MESG /Twice", 200).await;
    client.expect("MAKE MESG /Twice", 511).await;
    client.expect("MAKE FOLD /Twice", 511).await;
    client.expect("SLCT /nowhere", 511).await;
    client.expect("MAKE MESG relative", 511).await; // nothing selected: paths must be absolute
}

#[tokio::test]
async fn any_utf8_name_round_trips_through_modified_utf7() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user04").await;
    let names = ["Entwürfe", "日本語 & Co", "emoji 😀", "a&b", "ümlaut.with.dots", "trailing space "];
    for name in names {
        client.expect(&format!("MAKE MESG /{name}"), 200).await;
    }
    let list = client.expect("LIST /*", 200).await;
    for name in names {
        assert!(list.lines.contains(&format!("MESG /{name}")), "{name:?} in {list:?}");
        client.expect(&format!("SLCT /{name}"), 200).await;
        assert_eq!(stat_field(&client.expect("STAT", 200).await, "PATH"), Some(format!("/{name}")));
    }
    let mut session = imap("user04").await;
    let upstream = imap_mailboxes(&mut session).await;
    assert!(upstream.contains(&"Entw&APw-rfe".to_owned()), "{upstream:?}");
    assert!(upstream.contains(&"&ZeVnLIqe- &- Co".to_owned()), "{upstream:?}");
}

#[tokio::test]
async fn list_follows_section_4_27() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user05").await;
    client.expect("MAKE FOLD /WORK", 200).await;
    client.expect("MAKE FOLD /WORK/YEAR-2010", 200).await;
    for month in ["JUN", "JUL", "MAY"] {
        client.expect(&format!("MAKE MESG /WORK/YEAR-2010/{month}"), 200).await;
    }
    client.expect("SLCT /WORK", 200).await;
    let reply = client.expect("LIST YEAR-2010/J*", 200).await;
    assert_eq!(reply.lines, ["MESG /WORK/YEAR-2010/JUL", "MESG /WORK/YEAR-2010/JUN"]);
    assert_eq!(reply.text, "OK LIST completed (2 matches)");
    assert_eq!(client.expect("LIST /archive*", 200).await.text, "OK LIST completed (0 matches)");
    client.expect("LIST */*", 511).await;
    client.expect("LIST /ARCHIVE/2000", 511).await;
    client.expect("LIST /ARCHIVE/2000/*", 511).await;
    client.expect("LIST /WORK/../*", 511).await;
    assert_eq!(client.expect("LIST", 200).await.lines, ["FOLD /WORK/YEAR-2010"]);
    client.expect("SLCT /nope", 511).await;
    let root = client.expect("LIST", 200).await; // not selected: the root (LIST-NOT-SELECTED)
    assert!(root.lines.contains(&"FOLD /WORK".to_owned()), "{root:?}");
}

#[tokio::test]
async fn slct_follows_section_4_35() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user06").await;
    client.expect("SLCT", 510).await;
    client.expect("STAT", 200).await; // a syntax error changes nothing: INBOX stays selected
    client.expect("SLCT /", 511).await;
    client.expect("STAT", 512).await; // a failed SLCT leaves nothing selected
    client.expect("SLCT 1234", 511).await; // relative without a selection
    client.expect("SLCT /INBOX", 200).await;
    client.expect("MAKE MESG /Here", 200).await;
    client.expect("SLCT /Here", 200).await;
    assert_eq!(stat_field(&client.expect("STAT", 200).await, "PATH").as_deref(), Some("/Here"));
}

#[tokio::test]
async fn name_renames_upstream_and_keeps_the_selection_and_the_type() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user07").await;
    client.expect("MAKE FOLD /My", 200).await;
    client.expect("MAKE FOLD /My/NewFolder", 200).await;
    client.expect("MAKE MESG /My/NewFolder/Inside", 200).await;
    client.expect("MAKE MESG /My/Other", 200).await;
    client.expect("SLCT /My/NewFolder", 200).await;
    client.expect("NAME", 510).await;
    client.expect("NAME /A/new-folder", 511).await;
    client.expect("NAME Other", 511).await; // exists
    client.expect("NAME bad*name", 511).await;
    let reply = client.expect("NAME AFolder", 200).await;
    assert_eq!(reply.text, "OK /My/NewFolder --> /My/AFolder");
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat_field(&stat, "PATH").as_deref(), Some("/My/AFolder"));
    assert_eq!(stat_field(&stat, "TYPE").as_deref(), Some("FOLD"), "the type follows the rename");
    assert_eq!(client.expect("LIST", 200).await.lines, ["MESG /My/AFolder/Inside"]);
    let mut session = imap("user07").await;
    let upstream = imap_mailboxes(&mut session).await;
    assert!(upstream.contains(&"My/AFolder/Inside".to_owned()), "{upstream:?}");
    assert!(!upstream.iter().any(|name| name.starts_with("My/NewFolder")), "{upstream:?}");
    client.expect("SLCT /INBOX", 200).await;
    client.expect("NAME InBox", 511).await;
    client.expect("MAKE MESG /Top", 200).await;
    client.expect("SLCT /Top", 200).await;
    client.expect("NAME TRASH", 511).await; // a reserved root name
}

#[tokio::test]
async fn delf_deletes_the_whole_subtree_bottom_up() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user08").await;
    client.expect("MAKE FOLD /delete", 200).await;
    client.expect("MAKE MESG /delete/me", 200).await;
    client.expect("MAKE MESG /delete/me/deeper", 200).await;
    client.expect("MAKE MESG /delete/me/deeper/deepest", 200).await;
    client.expect("MAKE MESG /delete/sibling", 200).await;
    let mut session = imap("user08").await;
    imap_append(&mut session, "delete/me/deeper", "doomed", false).await;
    client.expect("SLCT /delete/me", 200).await;
    client.expect("DELF now", 510).await;
    assert_eq!(client.expect("DELF", 200).await.text, "OK Folder '/delete/me' was deleted");
    client.expect("STAT", 512).await; // nothing selected afterwards
    client.expect("DELF", 511).await;
    assert_eq!(client.expect("LIST /delete/*", 200).await.lines, ["MESG /delete/sibling"]);
    let upstream = imap_mailboxes(&mut session).await;
    assert!(!upstream.iter().any(|name| name.starts_with("delete/me")), "{upstream:?}");
    assert!(upstream.contains(&"delete/sibling".to_owned()));
    client.expect("SLCT /INBOX", 200).await;
    assert_eq!(client.expect("DELF", 511).await.text, "ERROR /INBOX cannot be deleted");
}

#[tokio::test]
async fn stat_counts_messages_and_unseen_ones() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user09").await;
    client.expect("MAKE MESG /Counted", 200).await;
    let mut session = imap("user09").await;
    for n in 0..5 {
        imap_append(&mut session, "Counted", &format!("message {n}"), n < 3).await;
    }
    client.expect("SLCT /Counted", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat.lines[..2], ["PATH /Counted".to_owned(), "TYPE MESG".to_owned()]);
    assert_eq!(stat_field(&stat, "TOTAL").as_deref(), Some("5"));
    assert_eq!(stat_field(&stat, "NEW").as_deref(), Some("2"));
    assert_eq!(stat_field(&stat, "TAGS").as_deref(), None, "a plain folder has no tags");
    assert!(stat.lines.contains(&"TAGS".to_owned()));
    client.expect("STAT extra", 510).await;
}

#[tokio::test]
async fn fcid_changes_with_items_and_children_but_not_with_flags_or_grandchildren() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user10").await;
    client.expect("MAKE FOLD /ARCHIVE", 200).await;
    client.expect("MAKE MESG /ARCHIVE/2010", 200).await;
    let mut session = imap("user10").await;
    let before = fcids(&mut client).await;
    assert!(before.contains_key("/") && before.contains_key("/INBOX") && before.contains_key("/ARCHIVE/2010"));
    assert_eq!(fcids(&mut client).await, before, "nothing changed, nothing moves");

    imap_append(&mut session, "ARCHIVE/2010", "new item", false).await;
    let added = fcids(&mut client).await;
    assert!(grew(&before["/ARCHIVE/2010"], &added["/ARCHIVE/2010"]), "an added item changes the FCID");
    assert_eq!(added["/ARCHIVE"], before["/ARCHIVE"], "not the parent's");
    assert_eq!(added["/"], before["/"]);

    session.select("ARCHIVE/2010").await.expect("SELECT");
    session.run_command_and_check_ok("STORE 1 +FLAGS (\\Seen)").await.expect("STORE");
    assert_eq!(fcids(&mut client).await["/ARCHIVE/2010"], added["/ARCHIVE/2010"], "flags are not items");

    session.run_command_and_check_ok("STORE 1 +FLAGS (\\Deleted)").await.expect("STORE");
    session.run_command_and_check_ok("EXPUNGE").await.expect("EXPUNGE");
    let removed = fcids(&mut client).await;
    assert!(grew(&added["/ARCHIVE/2010"], &removed["/ARCHIVE/2010"]), "a removed item changes the FCID");

    client.expect("MAKE MESG /ARCHIVE/2010/OLD", 200).await;
    let child = fcids(&mut client).await;
    assert!(grew(&removed["/ARCHIVE/2010"], &child["/ARCHIVE/2010"]), "a new child changes the parent");
    assert_eq!(child["/ARCHIVE"], removed["/ARCHIVE"], "a grandchild does not change the grandparent");
    assert!(child.contains_key("/ARCHIVE/2010/OLD"), "the new folder is listed");

    client.expect("MAKE MESG /Temporary", 200).await;
    assert!(grew(&child["/"], &fcids(&mut client).await["/"]), "a new root folder changes /");
    client.expect("CHNG /ARCHIVE", 200).await;
    assert_eq!(client.expect("CHNG /ARCHIVE", 200).await.lines.len(), 3, "the folder and its subtree");
    client.expect("CHNG /missing", 511).await;
}

#[tokio::test]
async fn ucid_is_stable_until_the_uid_space_changes() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user11").await;
    client.expect("MAKE MESG /Volatile", 200).await;
    client.expect("SLCT /Volatile", 200).await;
    let first = stat_field(&client.expect("STAT", 200).await, "UCID").expect("a UCID");
    let mut session = imap("user11").await;
    imap_append(&mut session, "Volatile", "x", false).await;
    assert_eq!(stat_field(&client.expect("STAT", 200).await, "UCID"), Some(first.clone()));
    // Another client deletes and recreates the mailbox: a new UIDVALIDITY.
    session.delete("Volatile").await.expect("DELETE");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // Dovecot derives UIDVALIDITY from the clock
    session.create("Volatile").await.expect("CREATE");
    let second = stat_field(&client.expect("STAT", 200).await, "UCID").expect("a UCID");
    assert!(grew(&first, &second), "UCID {first} -> {second}");
}

#[tokio::test]
async fn the_store_keeps_fold_types_across_restarts_and_losing_it_loses_no_data() {
    let store_dir = tempfile::tempdir().expect("store dir");
    let url = format!("sqlite://{}", store_dir.path().join("kept.db").display());
    let fcid_before;
    {
        let gateway = TestGateway::start_with(|config| config.store.url = url.clone()).await;
        let mut client = gateway.login("user12").await;
        client.expect("MAKE FOLD /Kept", 200).await;
        fcid_before = fcids(&mut client).await["/Kept"].clone();
        gateway.running.shutdown().await;
    }
    let gateway = TestGateway::start_with(|config| config.store.url = url.clone()).await;
    let mut client = gateway.login("user12").await;
    assert!(client.expect("LIST /*", 200).await.lines.contains(&"FOLD /Kept".to_owned()), "type survives a restart");
    assert_eq!(fcids(&mut client).await["/Kept"], fcid_before, "so does the FCID");
    // Another gateway with a fresh, empty store sees the same folders; the FOLD type too where
    // the mail server keeps the gateway's records, else the mailbox shows as what IMAP says it
    // is (docs/folders.md, docs/backends.md).
    let fresh = TestGateway::start().await;
    let mut client = fresh.login("user12").await;
    let kept = if records_upstream() { "FOLD /Kept" } else { "MESG /Kept" };
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&kept.to_owned()), "{listed:?}");
    assert!(!grew(&fcids(&mut client).await["/Kept"], &fcid_before), "change ids never go back");
}

#[tokio::test]
async fn placeholders_another_client_created_are_fold_folders_and_delf_removes_them() {
    // Dovecot's behaviour (Cyrus creates real folders for the parents): on Dovecot in every pair.
    let port = dovecot().port;
    let gateway = TestGateway::start_with(|config| config.imap.port = port).await;
    let mut session = imap_on(port, "user19").await;
    session.create("Deep/a/b").await.expect("CREATE nested"); // Dovecot: \Noselect Deep and Deep/a
    let mut client = gateway.login("user19").await;
    assert!(client.expect("LIST /*", 200).await.lines.contains(&"FOLD /Deep".to_owned()));
    assert_eq!(client.expect("LIST /Deep/*", 200).await.lines, ["FOLD /Deep/a"]);
    assert_eq!(client.expect("LIST /Deep/a/*", 200).await.lines, ["MESG /Deep/a/b"]);
    client.expect("MAKE MESG /Deep/a/c", 200).await; // a placeholder accepts children
    client.expect("SLCT /Deep", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat_field(&stat, "TYPE").as_deref(), Some("FOLD"));
    client.expect("DELF", 200).await;
    let upstream = imap_mailboxes(&mut session).await;
    assert!(!upstream.iter().any(|name| name.starts_with("Deep")), "{upstream:?}");
}
