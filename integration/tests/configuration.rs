//! CONF folders (draft 2.11.3): configurations kept upstream, so the gateway itself stays
//! stateless (docs/configuration.md): as private server annotations (RFC 5464 METADATA) where the
//! mail server keeps the gateway's entries (Dovecot with a dict, Cyrus allowing undefined
//! annotations: `records_upstream()`), otherwise as messages of a mailbox mail clients need not
//! show (Cyrus refusing undefined annotations).

use futures_util::TryStreamExt;

use crate::harness::{Client, ImapSession, TestGateway, imap, imap_mailboxes, records_upstream};

/// Figure 7 of the draft, as a client STORs it.
const FIG_7: [&str; 4] =
    ["<CONFIGURATION>", "  <CHECK-EACH-MIN>10</CHECK-EACH-MIN>", "  <QUOTA>1024</QUOTA>", "</CONFIGURATION>"];

/// Figure 7 as RETR gives it back.
const FIG_7_BACK: [&str; 4] =
    ["<CONFIGURATION>", "<CHECK-EACH-MIN>10</CHECK-EACH-MIN>", "<QUOTA>1024</QUOTA>", "</CONFIGURATION>"];

/// Root of the items kept as annotations (docs/configuration.md).
const ITEMS_ROOT: &str = "/private/vendor/agap-gateway/conf";

/// The id of the reserved /CONFIGURATION kept as annotations.
const RESERVED_ID: &str = "configuration";

/// Every private server annotation under `root`, as a plain IMAP client reads them (GETMETADATA
/// with DEPTH infinity, RFC 5464 4.2.2), sorted and with names in lower case. Sent by hand:
/// async-imap puts the options after the mailbox, where RFC 5464 does not have them.
async fn annotations_under(session: &mut ImapSession, root: &str) -> Vec<(String, String)> {
    use async_imap::imap_proto::{MailboxDatum, Response};
    let tag = session.run_command(format!("GETMETADATA (DEPTH infinity) \"\" ({root})")).await.expect("GETMETADATA");
    let mut pairs = Vec::new();
    loop {
        let response = session.read_response().await.expect("read").expect("a response");
        match response.parsed() {
            Response::MailboxData(MailboxDatum::MetadataSolicited { values, .. }) => {
                pairs.extend(values.iter().filter_map(|m| Some((m.entry.to_ascii_lowercase(), m.value.clone()?))));
            }
            Response::Done { tag: done, status, .. } if *done == tag => {
                assert_eq!(*status, async_imap::imap_proto::Status::Ok, "GETMETADATA refused");
                break;
            }
            _ => {}
        }
    }
    pairs.sort();
    pairs
}

/// The id of the CONF folder made at upstream key `key` (docs/configuration.md: the record
/// `/private/vendor/agap-gateway/conf-folder/<hex levels>`).
async fn folder_id(session: &mut ImapSession, key: &str) -> String {
    let levels: Vec<String> = key.split('/').map(hex).collect();
    let entry = format!("/private/vendor/agap-gateway/conf-folder/{}", levels.join("/"));
    let found = session.get_metadata("", "", &format!("({entry})")).await.expect("GETMETADATA");
    found
        .into_iter()
        .find(|metadata| metadata.entry.eq_ignore_ascii_case(&entry))
        .and_then(|metadata| metadata.value)
        .unwrap_or_else(|| panic!("no record {entry}"))
}

async fn find_all(client: &mut Client) -> Vec<String> {
    let reply = client.filtered("FIND", &[]).await;
    assert_eq!(reply.code, 200, "{reply:?}");
    reply.lines
}

#[tokio::test]
async fn a_configuration_survives_a_gateway_with_an_empty_store() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user83").await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&"CONF /CONFIGURATION".to_owned()), "{listed:?}");
    client.expect("SLCT /CONFIGURATION", 200).await;
    let stored = client.stor(&FIG_7).await;
    assert!(stored.text.starts_with("OK Configuration stored (UID is "), "{stored:?}");
    let uid = crate::collections::stored_uid(&stored);
    assert_eq!(client.expect(&format!("RETR {uid}"), 200).await.lines, FIG_7_BACK);
    assert_eq!(client.expect(&format!("RETR {uid} /CONFIGURATION/QUOTA"), 200).await.lines, ["1024"]);
    client.expect(&format!("STAG {uid} + ROAMING"), 200).await;
    let found = client.filtered("FIND", &["IS /CONFIGURATION/QUOTA = '1024'"]).await.lines;
    assert_eq!(found, std::slice::from_ref(&uid));
    drop(client);
    drop(gateway);
    // Another gateway with a new, empty store sees the same item: under the same UID where it
    // is a message (its IMAP UID), under the one it is given now where it is annotations (the
    // UIDs of the old store are gone; docs/configuration.md).
    let restarted = TestGateway::start().await;
    let mut client = restarted.login("user83").await;
    client.expect("SLCT /CONFIGURATION", 200).await;
    let found = find_all(&mut client).await;
    assert_eq!(found.len(), 1, "{found:?}");
    if !records_upstream() {
        assert_eq!(found, std::slice::from_ref(&uid));
    }
    let uid = &found[0];
    assert_eq!(client.expect(&format!("RETR {uid}"), 200).await.lines, FIG_7_BACK);
    assert_eq!(client.expect(&format!("GTAG {uid}"), 200).await.lines, ["ROAMING"]);
    // No mailbox mail clients show: unsubscribed, or none at all where annotations keep it.
    let mut session = imap("user83").await;
    let subscribed: Vec<_> = session.lsub(Some(""), Some("*")).await.expect("LSUB").try_collect().await.expect("LSUB");
    let subscribed: Vec<&str> = subscribed.iter().map(|name| name.name()).collect();
    assert!(!subscribed.iter().any(|name| name.contains("Configuration")), "{subscribed:?}");
    assert!(subscribed.contains(&"Notes"), "{subscribed:?}");
    let mailboxes = imap_mailboxes(&mut session).await;
    assert_eq!(mailboxes.contains(&"AGAP-Configuration".to_owned()), !records_upstream(), "{mailboxes:?}");
}

#[tokio::test]
async fn a_plain_imap_client_reads_and_writes_the_items_where_they_are_kept() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user95").await;
    client.expect("SLCT /CONFIGURATION", 200).await;
    let uid = crate::collections::stored_uid(&client.stor(&FIG_7).await);
    client.expect(&format!("STAG {uid} + ROAMING"), 200).await;
    let mut session = imap("user95").await;
    if !records_upstream() {
        // A message: Subject, the marker field and the XML body.
        session.select("AGAP-Configuration").await.expect("SELECT");
        let fetched: Vec<_> =
            session.uid_fetch("1:*", "(FLAGS BODY.PEEK[])").await.expect("FETCH").try_collect().await.expect("FETCH");
        assert_eq!(fetched.len(), 1);
        let body = String::from_utf8_lossy(fetched[0].body().expect("body")).into_owned();
        assert!(body.contains("X-AGAP-Item: configuration") && body.contains("<QUOTA>1024</QUOTA>"), "{body}");
        return;
    }
    let entries = annotations_under(&mut session, ITEMS_ROOT).await;
    let item = entries.first().expect("an item entry").0.clone();
    let item_id = item.rsplit('/').next().expect("id").to_owned();
    assert!(item.starts_with(&format!("{ITEMS_ROOT}/{RESERVED_ID}/")), "{entries:?}");
    assert_eq!(
        entries,
        [
            (item.clone(), "tags=ROAMING".to_owned()),
            (format!("{item}/check-each-min"), "10".to_owned()),
            (format!("{item}/quota"), "1024".to_owned()),
        ],
        "the item's tags, then one entry per key"
    );
    assert_eq!(item_id.len(), 20, "{item_id}");
    // An item another client writes the same way is an item of the folder.
    let other = format!("{ITEMS_ROOT}/{RESERVED_ID}/ffffffffffff00000000");
    session
        .run_command_and_check_ok(format!(
            "SETMETADATA \"\" ({other} \"tags=\" {other}/q_75_6f_74_61 \"a%22b\" {other}/x \"1\")"
        ))
        .await
        .expect("SETMETADATA");
    let found = find_all(&mut client).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let newest = &found[1];
    assert_eq!(
        client.expect(&format!("RETR {newest}"), 200).await.lines,
        ["<CONFIGURATION>", "<Quota>a&quot;b</Quota>", "<X>1</X>", "</CONFIGURATION>"]
    );
    // DELE removes every entry of the item, and nothing else.
    client.expect(&format!("DELE {newest}"), 200).await;
    let left = annotations_under(&mut session, &other).await;
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(annotations_under(&mut session, ITEMS_ROOT).await.len(), 3);
}

#[tokio::test]
async fn bad_configurations_are_refused_and_nothing_is_stored() {
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 64 * 1024).await;
    let mut client = gateway.login("user84").await;
    client.expect("MAKE CONF /Settings", 200).await;
    client.expect("SLCT /Settings", 200).await;
    let huge = format!("<CONFIGURATION><BIG>{}</BIG></CONFIGURATION>", "x".repeat(70 * 1024));
    let over_bounds: String = (0..50).map(|n| format!("<K{n}>{}</K{n}>", "x".repeat(1000))).collect();
    let over_bounds = format!("<CONFIGURATION>{over_bounds}</CONFIGURATION>");
    let many: String = (0..300).map(|n| format!("<K{n}>v</K{n}>")).collect();
    let many = format!("<CONFIGURATION>{many}</CONFIGURATION>");
    let bad: [&[&str]; 8] = [
        &["<CONFIGURATION><A><B>nested</B></A></CONFIGURATION>"],
        &["<CONFIGURATION><A>1</A><A>2</A></CONFIGURATION>"],
        &["<CONFIGURATION><caf\u{e9}>x</caf\u{e9}></CONFIGURATION>"],
        &["<CONFIGURATION><a:b>x</a:b></CONFIGURATION>"],
        &["<NOTE><SUBJECT>x</SUBJECT></NOTE>"],
        &[&huge],
        &[&over_bounds],
        &[&many],
    ];
    for lines in bad {
        let reply = client.stor(lines).await;
        assert_eq!(reply.code, 511, "{}: {reply:?}", &lines[0][..lines[0].len().min(60)]);
    }
    assert!(find_all(&mut client).await.is_empty(), "nothing stored");
    let mut session = imap("user84").await;
    if records_upstream() {
        // Nothing written upstream either, and the folder is no mailbox.
        let id = folder_id(&mut session, "Settings").await;
        assert_eq!(annotations_under(&mut session, &format!("{ITEMS_ROOT}/{id}")).await, []);
        assert!(!imap_mailboxes(&mut session).await.contains(&"Settings".to_owned()));
    }
    assert_eq!(client.stor(&FIG_7).await.code, 200);
    assert_eq!(find_all(&mut client).await.len(), 1);
}

#[tokio::test]
async fn conf_folders_are_renamed_copied_between_and_deleted_with_their_items() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user96").await;
    client.expect("MAKE CONF /Phone", 200).await;
    client.expect("MAKE CONF /Laptop", 200).await;
    client.expect("SLCT /Phone", 200).await;
    let uid = crate::collections::stored_uid(&client.stor(&FIG_7).await);
    client.expect(&format!("STAG {uid} + ROAMING"), 200).await;
    let mut session = imap("user96").await;
    let phone_id = if records_upstream() { Some(folder_id(&mut session, "Phone").await) } else { None };
    // NAME keeps the items (and, where annotations keep them, the folder's id).
    client.expect("NAME Mobile", 200).await;
    assert_eq!(find_all(&mut client).await, std::slice::from_ref(&uid));
    if let Some(phone_id) = &phone_id {
        assert_eq!(&folder_id(&mut session, "Mobile").await, phone_id);
    }
    // COPY and MOVE to another CONF folder: content and tags go along.
    client.expect(&format!("COPY {uid} /Laptop"), 200).await;
    client.expect("SLCT /Laptop", 200).await;
    let copies = find_all(&mut client).await;
    assert_eq!(copies.len(), 1);
    assert_eq!(client.expect(&format!("RETR {}", copies[0]), 200).await.lines, FIG_7_BACK);
    assert_eq!(client.expect(&format!("GTAG {}", copies[0]), 200).await.lines, ["ROAMING"]);
    client.expect(&format!("MOVE {} /Mobile", copies[0]), 200).await;
    assert!(find_all(&mut client).await.is_empty());
    client.expect("SLCT /Mobile", 200).await;
    assert_eq!(find_all(&mut client).await.len(), 2);
    let stat = client.expect("STAT", 200).await.lines;
    assert!(stat.iter().any(|line| line == "TOTAL 2"), "{stat:?}");
    // CPYF and MOVF take every item; /CONFIGURATION is one kept the same way as these.
    assert_eq!(client.expect("CPYF /Laptop", 200).await.text, "OK CPYF completed (2 items)");
    client.expect("SLCT /Laptop", 200).await;
    assert_eq!(client.expect("MOVF /CONFIGURATION", 200).await.text, "OK MOVF completed (2 items)");
    assert!(find_all(&mut client).await.is_empty());
    client.expect("SLCT /CONFIGURATION", 200).await;
    let tagged = client.filtered("FIND", &["TAG ROAMING"]).await.lines;
    assert_eq!(tagged.len(), 2, "{tagged:?}");
    client.expect("SLCT /Mobile", 200).await;
    // DELF takes the items along.
    client.expect("DELF", 200).await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(!listed.iter().any(|line| line.ends_with("/Mobile")), "{listed:?}");
    if let Some(phone_id) = &phone_id {
        assert_eq!(annotations_under(&mut session, &format!("{ITEMS_ROOT}/{phone_id}")).await, []);
    }
}

#[tokio::test]
async fn an_existing_configuration_mailbox_keeps_the_account_on_messages() {
    // The mailbox exists before the first login (an earlier gateway, or a server that gained
    // METADATA since): its items must not vanish, so /CONFIGURATION stays that mailbox.
    let mut session = imap("user97").await;
    session.create("AGAP-Configuration").await.expect("CREATE");
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user97").await;
    client.expect("SLCT /CONFIGURATION", 200).await;
    let uid = crate::collections::stored_uid(&client.stor(&FIG_7).await);
    assert_eq!(client.expect(&format!("RETR {uid}"), 200).await.lines, FIG_7_BACK);
    let status = session.status("AGAP-Configuration", "(MESSAGES)").await.expect("STATUS");
    assert_eq!(status.exists, 1, "stored as a message");
    if records_upstream() {
        assert_eq!(annotations_under(&mut session, ITEMS_ROOT).await, [], "no annotations");
    }
    // MAKE CONF then makes mailboxes too.
    client.expect("MAKE CONF /Settings", 200).await;
    assert!(imap_mailboxes(&mut session).await.contains(&"Settings".to_owned()));
    if !records_upstream() {
        return;
    }
    // A CONF folder kept as annotations (its record written as the gateway writes it) beside
    // the mailboxes: items go both ways, content and tags along.
    let record = format!("/private/vendor/agap-gateway/conf-folder/{}", hex("Meta"));
    session.run_command_and_check_ok(format!("SETMETADATA \"\" ({record} \"00000000000000ab\")")).await.expect("SET");
    client.expect("SLCT /CONFIGURATION", 200).await;
    client.expect(&format!("STAG {uid} + ROAMING"), 200).await;
    client.expect(&format!("MOVE {uid} /Meta"), 200).await;
    assert!(find_all(&mut client).await.is_empty(), "moved out of the mailbox");
    let entries = annotations_under(&mut session, &format!("{ITEMS_ROOT}/00000000000000ab")).await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0].1, "tags=ROAMING");
    client.expect("SLCT /Meta", 200).await;
    let moved = find_all(&mut client).await;
    assert_eq!(moved.len(), 1);
    client.expect(&format!("COPY {} /Settings", moved[0]), 200).await;
    client.expect("SLCT /Settings", 200).await;
    let copied = find_all(&mut client).await;
    assert_eq!(client.expect(&format!("RETR {}", copied[0]), 200).await.lines, FIG_7_BACK);
    assert_eq!(client.expect(&format!("GTAG {}", copied[0]), 200).await.lines, ["ROAMING"]);
}

/// A level of a folder record's entry name (docs/folders.md).
fn hex(level: &str) -> String {
    level.bytes().map(|byte| format!("{byte:02x}")).collect()
}
