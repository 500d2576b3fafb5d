//! Folder records under attack (issue 12): the FOLD/FILT types and FILT definitions kept as
//! per-folder server annotations (docs/folders.md) survive concurrent writers, are never wiped
//! when they do not parse, do not outlive their folders, and stay within the server's limits.
//!
//! Each test uses its own account on an IMAP server (the pair's kind) of this module's own, so
//! that nothing else writes the annotations it checks. That server keeps the gateway's records
//! on every pair (a Cyrus with `annotation_allow_undefined: yes`), as these tests are about them.

use std::sync::OnceLock;

use crate::harness::{
    Backend, Client, ImapSession, TestGateway, imap_mailboxes, imap_on, private_mail_server_keeping_records,
};

fn backend() -> &'static Backend {
    static MAIL: OnceLock<Backend> = OnceLock::new();
    MAIL.get_or_init(private_mail_server_keeping_records)
}

async fn start_gateway() -> TestGateway {
    TestGateway::start_with(|config| config.imap.port = backend().port).await
}

async fn imap(user: &str) -> ImapSession {
    imap_on(backend().port, user).await
}

const ROOT: &str = "/private/vendor/agap-gateway";

/// The entry of a folder's record under `root` (`folder` or `filter`), as docs/folders.md says.
fn entry(root: &str, key: &str) -> String {
    let levels: Vec<String> =
        key.split('/').map(|level| level.bytes().map(|byte| format!("{byte:02x}")).collect()).collect();
    format!("{ROOT}/{root}/{}", levels.join("/"))
}

/// The value of one server annotation, read over plain IMAP.
async fn annotation(session: &mut ImapSession, entry: &str) -> Option<String> {
    let found = session.get_metadata("", "", &format!("({entry})")).await.expect("GETMETADATA");
    found.into_iter().find(|metadata| metadata.entry.eq_ignore_ascii_case(entry)).and_then(|metadata| metadata.value)
}

async fn set_annotation(session: &mut ImapSession, entry: &str, value: &str) {
    let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
    session.run_command_and_check_ok(format!("SETMETADATA \"\" ({entry} \"{quoted}\")")).await.expect("SETMETADATA");
}

fn definition(about: &str) -> Vec<String> {
    vec![
        "<FILTER>".to_owned(),
        format!("<ABOUT>{about}</ABOUT>"),
        "<FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS>".to_owned(),
        "<RULES><TAG>SEEN</TAG></RULES>".to_owned(),
        "</FILTER>".to_owned(),
    ]
}

async fn stor(client: &mut Client, lines: &[String]) -> crate::harness::Reply {
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    client.stor(&lines).await
}

const PER_SESSION: usize = 25;

fn kind_of(n: usize) -> &'static str {
    if n.is_multiple_of(2) { "FILT" } else { "FOLD" }
}

/// PER_SESSION MAKEs sent at once (the gateway works through them back to back, so the sessions'
/// writes overlap), then a definition into each FILT folder the same way.
async fn make_many(client: &mut Client, side: &str) {
    for n in 0..PER_SESSION {
        client.send(&format!("MAKE {} /{side}{n}", kind_of(n))).await;
    }
    for n in 0..PER_SESSION {
        assert_eq!(client.read_reply().await.code, 200, "MAKE /{side}{n}");
    }
    let filters: Vec<usize> = (0..PER_SESSION).filter(|n| kind_of(*n) == "FILT").collect();
    for n in &filters {
        client.send(&format!("SLCT /{side}{n}")).await;
        client.send("STOR").await;
        for line in definition(&format!("{side}{n}")) {
            client.send(&line).await;
        }
        client.send("").await;
    }
    for n in &filters {
        let replies = [client.read_reply().await.code, client.read_reply().await.code, client.read_reply().await.code];
        assert_eq!(replies, [200, 110, 200], "SLCT and STOR /{side}{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_making_folders_at_once_keep_every_type_and_definition() {
    // Two sessions on each of two gateway instances, as behind a load balancer: nothing in the
    // gateway orders their writes.
    let (one, other) = (start_gateway().await, start_gateway().await);
    let mut clients = Vec::new();
    for gateway in [&one, &other, &one, &other] {
        clients.push(gateway.login("user14").await);
    }
    let [a, b, c, d] = &mut clients[..] else { unreachable!() };
    tokio::join!(make_many(a, "a"), make_many(b, "b"), make_many(c, "c"), make_many(d, "d"));
    // A gateway with an empty store of its own sees only what is kept upstream.
    let fresh = start_gateway().await;
    let mut client = fresh.login("user14").await;
    let listed = client.expect("LIST /*", 200).await.lines;
    for side in ["a", "b", "c", "d"] {
        for n in 0..PER_SESSION {
            let folder = format!("/{side}{n}");
            assert!(listed.contains(&format!("{} {folder}", kind_of(n))), "{folder} in {listed:?}");
            if kind_of(n) == "FILT" {
                client.expect(&format!("SLCT {folder}"), 200).await;
                assert_eq!(client.expect("RETR", 200).await.lines, definition(&format!("{side}{n}")), "{folder}");
            }
        }
    }
}

#[tokio::test]
async fn a_shared_map_that_does_not_parse_is_never_wiped() {
    let mut session = imap("user17").await;
    // The map an earlier version kept, damaged: it must not be taken for an empty one.
    set_annotation(&mut session, &format!("{ROOT}/folder-types"), "{not json").await;
    let gateway = start_gateway().await;
    let mut client = gateway.login("user17").await;
    let reply = client.command("MAKE FOLD /Kept").await;
    assert_eq!(reply.code, 401, "{reply:?}");
    assert!(reply.text.contains("cannot be read"), "{reply:?}");
    assert_eq!(annotation(&mut session, &format!("{ROOT}/folder-types")).await.as_deref(), Some("{not json"));
    assert!(!imap_mailboxes(&mut session).await.contains(&"Kept".to_owned()), "no mailbox created");
    assert_eq!(annotation(&mut session, &entry("folder", "Kept")).await, None);
}

#[tokio::test]
async fn a_folder_record_that_does_not_parse_is_not_overwritten() {
    let mut session = imap("user18").await;
    set_annotation(&mut session, &entry("folder", "Damaged"), "garbage").await;
    let gateway = start_gateway().await;
    let mut client = gateway.login("user18").await;
    assert!(!client.expect("LIST /*", 200).await.lines.iter().any(|line| line.ends_with("/Damaged")));
    let reply = client.command("MAKE FILT /Damaged").await;
    assert_eq!(reply.code, 401, "{reply:?}");
    assert!(reply.text.contains("cannot be read"), "{reply:?}");
    assert_eq!(annotation(&mut session, &entry("folder", "Damaged")).await.as_deref(), Some("garbage"));
    assert!(!imap_mailboxes(&mut session).await.contains(&"Damaged".to_owned()), "no mailbox created");
    // Other folders are other entries: unaffected.
    client.expect("MAKE FILT /Sound", 200).await;
    client.expect("SLCT /Sound", 200).await;
    assert_eq!(stor(&mut client, &definition("sound")).await.code, 200);
    // A damaged definition is not replaced either, nor read as none.
    set_annotation(&mut session, &entry("filter", "Sound"), "<not json>").await;
    let reply = stor(&mut client, &definition("replaced")).await;
    assert_eq!(reply.code, 401, "{reply:?}");
    assert_eq!(client.command("RETR").await.code, 401);
    assert_eq!(annotation(&mut session, &entry("filter", "Sound")).await.as_deref(), Some("<not json>"));
}

#[tokio::test]
async fn a_folder_made_where_a_filt_folder_was_deleted_behind_the_gateways_back_is_what_was_made() {
    let gateway = start_gateway().await;
    let mut client = gateway.login("user30").await;
    let mut session = imap("user30").await;
    for name in ["Reborn", "Renamed"] {
        client.expect(&format!("MAKE FILT /{name}"), 200).await;
        client.expect(&format!("SLCT /{name}"), 200).await;
        assert_eq!(stor(&mut client, &definition(name)).await.code, 200);
        assert!(annotation(&mut session, &entry("filter", name)).await.is_some());
    }
    client.expect("SLCT /INBOX", 200).await;
    session.delete("Reborn").await.expect("DELETE behind the gateway's back");
    session.delete("Renamed").await.expect("DELETE behind the gateway's back");
    client.expect("MAKE MESG /Reborn", 200).await;
    client.expect("MAKE MESG /Other", 200).await;
    client.expect("SLCT /Other", 200).await;
    client.expect("NAME Renamed", 200).await;
    for (name, what) in [("Reborn", "MAKE"), ("Renamed", "NAME")] {
        let listed = client.expect("LIST /*", 200).await.lines;
        assert!(listed.contains(&format!("MESG /{name}")), "{what}: {listed:?}");
        assert_eq!(annotation(&mut session, &entry("folder", name)).await, None, "{what}");
        assert_eq!(annotation(&mut session, &entry("filter", name)).await, None, "{what}");
    }
    client.expect("SLCT /Reborn", 200).await;
    let stored = client.stor(&["<MESSAGE><HEADER><SUBJECT>back</SUBJECT></HEADER></MESSAGE>"]).await;
    assert_eq!(stored.code, 200, "{stored:?}");
    // DELF takes the records with the folder.
    client.expect("MAKE FOLD /Gone", 200).await;
    assert_eq!(annotation(&mut session, &entry("folder", "Gone")).await.as_deref(), Some("FOLD"));
    client.expect("SLCT /Gone", 200).await;
    client.expect("DELF", 200).await;
    assert_eq!(annotation(&mut session, &entry("folder", "Gone")).await, None);
}

#[tokio::test]
async fn a_definition_past_the_servers_line_limit_is_refused_and_nothing_changes() {
    let gateway = start_gateway().await;
    let mut client = gateway.login("user36").await;
    let mut session = imap("user36").await;
    client.expect("MAKE FILT /Big", 200).await;
    client.expect("SLCT /Big", 200).await;
    // 50 KiB: kept, beyond what one quoted string of every definition together could hold.
    let line = "x".repeat(900);
    let about = |lines: usize| vec![line.as_str(); lines].join("\n");
    let kept = definition(&about(56));
    assert_eq!(stor(&mut client, &kept).await.code, 200);
    let before = annotation(&mut session, &entry("filter", "Big")).await.expect("kept upstream");
    // 200 KiB: 511 before anything is sent upstream.
    let reply = stor(&mut client, &definition(&about(228))).await;
    assert_eq!(reply.code, 511, "{reply:?}");
    assert!(reply.text.contains("at most"), "{reply:?}");
    assert_eq!(annotation(&mut session, &entry("filter", "Big")).await.as_deref(), Some(before.as_str()));
    let retr = client.expect("RETR", 200).await.lines;
    assert_eq!(retr.len(), kept.len() + 55);
    assert_eq!(retr.join("\n"), kept.join("\n"));
    client.expect("NOOP", 200).await;
}

#[tokio::test]
async fn the_shared_maps_of_earlier_versions_move_into_per_folder_records_at_login() {
    let mut session = imap("user60").await;
    for name in ["Legacy", "LegacyFilter"] {
        session.create(name).await.expect("CREATE");
    }
    let text = definition("legacy").join("\n");
    set_annotation(&mut session, &format!("{ROOT}/folder-types"), r#"{"Legacy":"FOLD","LegacyFilter":"FILT"}"#).await;
    let filters = serde_json::json!({ "LegacyFilter": text }).to_string();
    set_annotation(&mut session, &format!("{ROOT}/filters"), &filters).await;
    let gateway = start_gateway().await;
    let mut client = gateway.login("user60").await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(
        listed.contains(&"FOLD /Legacy".to_owned()) && listed.contains(&"FILT /LegacyFilter".to_owned()),
        "{listed:?}"
    );
    client.expect("SLCT /LegacyFilter", 200).await;
    assert_eq!(client.expect("RETR", 200).await.lines, definition("legacy"));
    assert_eq!(annotation(&mut session, &format!("{ROOT}/folder-types")).await, None);
    assert_eq!(annotation(&mut session, &format!("{ROOT}/filters")).await, None);
    assert_eq!(annotation(&mut session, &entry("folder", "Legacy")).await.as_deref(), Some("FOLD"));
}
