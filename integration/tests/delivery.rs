//! Delivery into other accounts (draft 4.24, 4.6): AUTH STORING* and FSTO through the mail
//! server's LMTP service (docs/presence-and-delivery.md). What arrives is read back with a
//! plain IMAP client as the recipient; user90..user76 only.

use futures_util::TryStreamExt;

use agap_gateway::command::Verb;

use agap_adapter_api::collection::ItemKind;

use crate::auth::{hashed_auth, md5_hash};
use crate::collections::{FIG_5, FIG_152, FIG_153, dav_account};
use crate::harness::{
    Client, ImapSession, TestGateway, imap, password, with_dav_delivery, with_delivery, with_hashed_logins,
};

/// A message as a client sends it after FSTO's 110, with `subject`.
fn message(subject: &str) -> Vec<String> {
    vec![
        "<MESSAGE><HEADER>".into(),
        "<FROM>Alice &lt;alice@example.com&gt;</FROM>".into(),
        "<TO>kontakt@agap.at</TO>".into(),
        format!("<SUBJECT>{subject}</SUBJECT>"),
        "</HEADER>".into(),
        "<TEXT>.A line starting with a dot, and one more.</TEXT>".into(),
        "</MESSAGE>".into(),
    ]
}

/// A client in the storing state as `user`.
async fn storing(gateway: &TestGateway, user: &str) -> Client {
    let mut client = gateway.client().await;
    client.expect("AUTH STORING", 200).await;
    client.expect(&format!("USER {user}"), 200).await;
    client.expect(&format!("PASS {}", password(user)), 200).await;
    client
}

/// FSTO of `lines` to `account`: the final reply.
async fn fsto(client: &mut Client, account: &str, lines: &[String]) -> crate::harness::Reply {
    client.expect(&format!("FSTO MESG {account}"), 110).await;
    for line in lines {
        client.send(line).await;
    }
    client.command("").await
}

/// The raw messages of `user`'s INBOX whose subject holds `subject`.
async fn inbox_messages(session: &mut ImapSession, subject: &str) -> Vec<String> {
    session.select("INBOX").await.expect("SELECT");
    let uids = session.uid_search(format!("SUBJECT \"{subject}\"")).await.expect("SEARCH");
    let mut found = Vec::new();
    for uid in uids {
        let fetches: Vec<_> =
            session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.expect("FETCH").try_collect().await.expect("FETCH");
        found.extend(
            fetches.iter().filter_map(|fetch| fetch.body()).map(|body| String::from_utf8_lossy(body).into_owned()),
        );
    }
    found
}

#[tokio::test]
async fn a_message_delivered_by_fsto_is_in_the_recipients_inbox_with_a_trace_field() {
    let gateway = TestGateway::start_with(with_delivery).await;
    let mut client = storing(&gateway, "user90").await;
    let reply = fsto(&mut client, "user72", &message("fsto delivered 1")).await;
    assert_eq!((reply.code, reply.text.as_str()), (200, "OK Message stored into INBOX of user72"), "{reply:?}");

    let mut recipient = imap("user72").await;
    let found = inbox_messages(&mut recipient, "fsto delivered 1").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let delivered = &found[0];
    let received = delivered.lines().take_while(|line| !line.is_empty()).collect::<Vec<_>>().join("\n");
    assert!(received.contains("(AGAP FSTO, authenticated as user90)"), "{delivered}");
    assert!(received.contains(&format!("by {} with AGAP for <user72>;", gateway.running.gateway.config.server.name)));
    assert!(delivered.contains("\r\n.A line starting with a dot"), "dot-stuffing undone: {delivered}");
    assert!(delivered.to_ascii_lowercase().contains("\r\nsubject: fsto delivered 1\r\n"), "{delivered}");
    // The sender's own INBOX got nothing.
    assert!(inbox_messages(&mut imap("user90").await, "fsto delivered 1").await.is_empty());
    // The storing state goes on: a second delivery, then QUIT.
    assert_eq!(fsto(&mut client, "user72", &message("fsto delivered 2")).await.code, 200);
    client.expect("QUIT", 200).await;
}

#[tokio::test]
async fn unknown_accounts_invalid_types_and_bad_items_are_refused_and_deliver_nothing() {
    let gateway = TestGateway::start_with(with_delivery).await;
    let mut client = storing(&gateway, "user72").await;
    // Figures 94 and 95.
    client.expect("FSTO", 510).await;
    client.expect("FSTO MESG", 510).await;
    assert_eq!(client.expect("FSTO -1 user73", 511).await.text, "ERROR INVALID folder type");
    assert_eq!(client.expect("FSTO MESG nouser@agap.at", 511).await.text, "ERROR UNKNOWN account name");
    // A name that cannot be an address gets the same answer, and never reaches the server.
    assert_eq!(client.expect("FSTO MESG user73>\tRCPT", 511).await.text, "ERROR UNKNOWN account name");
    client.expect("FSTO CALE user73", 511).await;

    let max = gateway.running.gateway.config.mail.max_item_size;
    let huge = vec![
        "<MESSAGE><HEADER><SUBJECT>fsto too big</SUBJECT></HEADER><TEXT>".to_owned(),
        "x".repeat(1000),
        "</TEXT></MESSAGE>".to_owned(),
    ];
    let mut over = huge.clone();
    over.splice(1..2, std::iter::repeat_n("x".repeat(1000), max / 1000 + 1));
    let bad: Vec<(&str, Vec<String>)> = vec![
        ("unclosed XML", vec!["<MESSAGE><HEADER><SUBJECT>fsto bad 1</SUBJECT>".into()]),
        ("a contact", vec!["<VCARD><FN>fsto bad 2</FN></VCARD>".into()]),
        ("over max_item_size", over),
    ];
    for (what, lines) in bad {
        let reply = fsto(&mut client, "user73", &lines).await;
        assert_eq!(reply.code, 511, "{what}: {reply:?}");
    }
    let mut recipient = imap("user73").await;
    for subject in ["fsto bad", "fsto too big"] {
        assert!(inbox_messages(&mut recipient, subject).await.is_empty(), "{subject} delivered");
    }
    // The connection still works; a line break in a field stays in that field (no Bcc added).
    let injection = "<MESSAGE><HEADER><SUBJECT>fsto injection&#13;&#10;Bcc: x@y.z</SUBJECT></HEADER></MESSAGE>";
    assert_eq!(fsto(&mut client, "user73", &[injection.to_owned()]).await.code, 200);
    let delivered = inbox_messages(&mut recipient, "fsto injection").await;
    assert_eq!(delivered.len(), 1);
    assert!(!delivered[0].to_ascii_lowercase().contains("\r\nbcc:"), "{delivered:?}");
}

#[tokio::test]
async fn the_storing_state_takes_fsto_and_quit_only() {
    let gateway = TestGateway::start_with(with_delivery).await;
    let mut client = storing(&gateway, "user73").await;
    for verb in Verb::ALL.into_iter().filter(|verb| !matches!(verb, Verb::Fsto | Verb::Quit)) {
        let reply = client.command(&format!("{verb} x")).await;
        assert_eq!(reply.code, 510, "{verb}: {reply:?}");
    }
    assert_eq!(fsto(&mut client, "user75", &message("fsto after refusals")).await.code, 200);
}

#[tokio::test]
async fn a_sender_past_the_limit_gets_410_until_the_minute_is_over() {
    let gateway = TestGateway::start_with(|config| {
        with_delivery(config);
        config.delivery.per_sender_per_minute = 2;
    })
    .await;
    let mut client = storing(&gateway, "user75").await;
    for n in 0..2 {
        assert_eq!(fsto(&mut client, "user76", &message(&format!("fsto limited {n}"))).await.code, 200);
    }
    let reply = client.expect("FSTO MESG user76", 410).await;
    assert!(reply.text.contains("too many deliveries"), "{reply:?}");
    // A new connection of the same sender counts against the same limit.
    let mut again = storing(&gateway, "user75").await;
    again.expect("FSTO MESG user76", 410).await;
    assert_eq!(inbox_messages(&mut imap("user76").await, "fsto limited").await.len(), 2);
}

#[tokio::test]
async fn anonymous_senders_only_where_configured_and_digests_with_a_users_file() {
    let closed = TestGateway::start_with(with_delivery).await;
    let mut client = closed.client().await;
    client.expect("AUTH STORING", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS someone@example.com", 511).await;

    let open = TestGateway::start_with(|config| {
        with_delivery(config);
        with_hashed_logins(config, false);
        config.delivery.anonymous = true;
    })
    .await;
    let mut client = open.client().await;
    client.expect("AUTH STORING", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS not an address", 511).await;
    client.expect("AUTH STORING", 200).await;
    client.expect("USER anonymous", 200).await;
    client.expect("PASS someone@example.com", 200).await;
    assert_eq!(fsto(&mut client, "user90", &message("fsto anonymous")).await.code, 200);
    let found = inbox_messages(&mut imap("user90").await, "fsto anonymous").await;
    assert!(found[0].contains("(AGAP FSTO, anonymous, gave someone@example.com)"), "{found:?}");

    // STORING-MD5: the users file proves the sender.
    let mut client = open.client().await;
    let prefix = hashed_auth(&mut client, "STORING-MD5").await;
    client.expect("USER user58", 200).await;
    client.expect(&format!("HASH {}", md5_hash(&prefix, "wrong")), 511).await;
    let prefix = hashed_auth(&mut client, "STORING-MD5").await;
    client.expect("USER user58", 200).await;
    client.expect(&format!("HASH {}", md5_hash(&prefix, &password("user58"))), 200).await;
    assert_eq!(fsto(&mut client, "user90", &message("fsto by digest")).await.code, 200);
}

#[tokio::test]
async fn capa_offers_storing_exactly_where_delivery_is_configured() {
    let plain = TestGateway::start().await;
    let capa = plain.client().await.expect("CAPA", 200).await.lines;
    assert!(!capa.iter().any(|line| line.starts_with("AUTH-STORING")), "{capa:?}");
    plain.client().await.expect("AUTH STORING", 511).await;

    let delivering = TestGateway::start_with(with_delivery).await;
    let capa = delivering.client().await.expect("CAPA", 200).await.lines;
    assert!(capa.contains(&"AUTH-STORING".to_owned()), "{capa:?}");
    assert!(!capa.contains(&"AUTH-STORING-MD5".to_owned()), "digests need a users file: {capa:?}");

    let hashed = TestGateway::start_with(|config| {
        with_delivery(config);
        with_hashed_logins(config, false);
    })
    .await;
    let capa = hashed.client().await.expect("CAPA", 200).await.lines;
    for mechanism in ["AUTH-STORING", "AUTH-STORING-MD5", "AUTH-STORING-SHA1"] {
        assert!(capa.contains(&mechanism.to_owned()), "{mechanism}: {capa:?}");
    }
}

/// Whether the pair's DAV server lets the service account reach other users' collections the
/// way RFC 4791 and 6352 describe them (docs/backends.md: not Cyrus, whose admins see other
/// users' calendars only as shares in their own home: there FSTO delivers messages only).
fn dav_delivery_works() -> bool {
    crate::harness::backend_pair().dav != crate::harness::DavServer::Cyrus
}

#[tokio::test]
async fn an_event_and_a_contact_delivered_by_fsto_are_in_the_recipients_collections() {
    let gateway = TestGateway::start_with(with_dav_delivery).await;
    // The recipient has used the gateway once: its first LIST made the reserved collections.
    gateway.login("user75").await.expect("LIST", 200).await;
    let mut client = storing(&gateway, "user73").await;
    let event: Vec<String> = FIG_153.iter().map(|line| line.to_string()).collect();
    client.expect("FSTO CALE user75", if dav_delivery_works() { 110 } else { 511 }).await;
    if !dav_delivery_works() {
        return;
    }
    for line in &event {
        client.send(line).await;
    }
    let reply = client.command("").await;
    assert_eq!((reply.code, reply.text.as_str()), (200, "OK Event stored into the CALE folder of user75"), "{reply:?}");
    let vcard: Vec<String> = FIG_152.iter().map(|line| line.replace("Iulian Radu", "Delivered Card")).collect();
    client.expect("FSTO ADDR user75", 110).await;
    for line in &vcard {
        client.send(line).await;
    }
    assert_eq!(client.command("").await.code, 200);

    // A plain CalDAV/CardDAV client, as the recipient, finds both in its collections...
    let dav = dav_account("user75").await;
    for (kind, text) in [(ItemKind::Events, "SUMMARY:AGAP RFC Party"), (ItemKind::Contacts, "FN:Delivered Card")] {
        let mut found = Vec::new();
        for collection in dav.list_collections().await.expect("collections") {
            if collection.kind != kind {
                continue;
            }
            let hrefs: Vec<String> =
                dav.list_items(&collection.id, kind).await.expect("items").into_iter().map(|item| item.href).collect();
            let items = dav.fetch_items(&collection.id, kind, &hrefs).await.expect("fetch");
            found.extend(items.iter().map(|item| String::from_utf8_lossy(&item.body).into_owned()));
        }
        assert_eq!(found.iter().filter(|body| body.contains(text)).count(), 1, "{text}: {found:?}");
    }
    // ...and the recipient's AGAP session in its reserved folders.
    let mut recipient = gateway.login("user75").await;
    for (folder, text) in [("/CALENDAR", "<SUMMARY>AGAP RFC Party</SUMMARY>"), ("/CONTACT", "<FN>Delivered Card</FN>")]
    {
        recipient.expect(&format!("SLCT {folder}"), 200).await;
        let uids = recipient.filtered("FIND", &[]).await.lines;
        let mut texts = Vec::new();
        for uid in uids {
            texts.push(recipient.expect(&format!("RETR {uid}"), 200).await.lines.join("\n"));
        }
        assert!(texts.iter().any(|item| item.contains(text)), "{text} in {folder}: {texts:?}");
    }
    // The same UID again: a server that keeps RFC 4791's no-uid-conflict refuses it (511) and
    // nothing changes; FSTO never replaces an item of the recipient. Xandikos 0.2.8 takes a
    // second resource with the UID (docs/backends.md).
    client.expect("FSTO CALE user75", 110).await;
    for line in &event {
        client.send(line).await;
    }
    let again = client.command("").await.code;
    let keeps_uids_unique = crate::harness::backend_pair().dav != crate::harness::DavServer::Xandikos;
    assert_eq!(again, if keeps_uids_unique { 511 } else { 200 });
}

#[tokio::test]
async fn collection_deliveries_refuse_unknown_accounts_alarms_and_other_types() {
    if !dav_delivery_works() {
        return;
    }
    let gateway = TestGateway::start_with(with_dav_delivery).await;
    gateway.login("user76").await.expect("LIST", 200).await;
    let mut client = storing(&gateway, "user73").await;
    assert_eq!(client.expect("FSTO CALE nouser", 511).await.text, "ERROR UNKNOWN account name");
    client.expect("FSTO NOTE user76", 511).await;
    client.expect("FSTO FILE user76", 511).await;
    for (verb, lines) in [("CALE", FIG_5.to_vec()), ("CALE", FIG_152.to_vec()), ("ADDR", FIG_153.to_vec())] {
        client.expect(&format!("FSTO {verb} user76"), 110).await;
        for line in lines {
            client.send(line).await;
        }
        assert_eq!(client.command("").await.code, 511, "{verb}");
    }
}

#[tokio::test]
async fn a_note_delivered_by_fsto_is_in_the_recipients_notes_mailbox_where_a_master_user_is_set() {
    let without_master = TestGateway::start_with(with_delivery).await;
    let mut client = storing(&without_master, "user73").await;
    client.expect("FSTO NOTE user90", 511).await;

    let gateway = TestGateway::start_with(|config| {
        with_delivery(config);
        with_hashed_logins(config, true);
    })
    .await;
    let mut client = storing(&gateway, "user73").await;
    assert_eq!(client.expect("FSTO NOTE nouser", 511).await.text, "ERROR UNKNOWN account name");
    client.expect("FSTO NOTE user90", 110).await;
    for line in
        ["<NOTE>", "<SUBJECT>fsto note</SUBJECT>", "<CONTENT TYPE=\"text/plain\">Delivered.</CONTENT>", "</NOTE>"]
    {
        client.send(line).await;
    }
    let reply = client.command("").await;
    assert_eq!((reply.code, reply.text.as_str()), (200, "OK Note stored into NOTE of user90"), "{reply:?}");
    client.expect("FSTO NOTE user90", 110).await;
    client.send("<MESSAGE><HEADER><SUBJECT>fsto note 2</SUBJECT></HEADER></MESSAGE>").await;
    assert_eq!(client.command("").await.code, 511, "a message is no note");

    let mut recipient = imap("user90").await;
    recipient.select("Notes").await.expect("SELECT Notes");
    let uids = recipient.uid_search("SUBJECT \"fsto note\"").await.expect("SEARCH");
    assert_eq!(uids.len(), 1, "{uids:?}");
    let uid = uids.into_iter().next().expect("uid").to_string();
    let fetches: Vec<_> =
        recipient.uid_fetch(uid, "BODY.PEEK[]").await.expect("FETCH").try_collect().await.expect("FETCH");
    let note = String::from_utf8_lossy(fetches[0].body().expect("body")).into_owned();
    assert!(note.starts_with("Received: from [127.0.0.1] (AGAP FSTO, authenticated as user73)"), "{note}");
    assert!(note.contains("X-Uniform-Type-Identifier: com.apple.mail-note"), "{note}");
}
