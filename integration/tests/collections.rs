//! Calendars, tasks, journals and contacts through the gateway, against the pair's real DAV
//! server (and its IMAP server for the mail side of the tree): reserved folders, MAKE/NAME/DELF, every item command
//! on CALE, TASK, JRNL and ADDR, examples 7.7, 7.8, 7.10 and 7.11, the UID map across sessions,
//! restarts and changes made by another DAV client.

use std::collections::BTreeMap;
use std::sync::Arc;

use agap_adapter_api::Credentials;
use agap_adapter_api::collection::{CollectionAccount, CollectionBackend, CollectionInfo};
use agap_adapter_dav::DavBackend;

use crate::harness::{Client, DavServer, TestGateway, dav_root, password, with_dav};

/// The user's collections as another DAV client (not the gateway) sees them.
pub(crate) async fn dav_account(user: &str) -> Arc<dyn CollectionAccount> {
    DavBackend::new(dav_root()).open(&Credentials::new(user, password(user))).await.expect("DAV account")
}

/// The collection the gateway made for `mark` (`TYPE /path`), as another DAV client finds it:
/// by the mark where the server keeps dead properties, else (the gateway's store keeps the mark)
/// by the display name the gateway gave it, the path's last name.
async fn collection_marked(user: &str, mark: &str) -> CollectionInfo {
    let collections = dav_account(user).await.list_collections().await.expect("collections");
    if let Some(found) = collections.iter().find(|info| info.agap_mark.as_deref() == Some(mark)) {
        return found.clone();
    }
    assert!(
        !server_keeps_marks(&collections),
        "no collection marked {mark:?} on a server that keeps marks: {collections:?}"
    );
    let name = mark.rsplit('/').next().unwrap_or_default();
    let named: Vec<&CollectionInfo> =
        collections.iter().filter(|info| info.display_name.as_deref() == Some(name)).collect();
    assert_eq!(named.len(), 1, "one collection named {name:?}: {collections:?}");
    named[0].clone()
}

/// Whether the DAV server keeps the gateway's marks (dead properties) on `collections`, those of
/// a user the gateway has set up (it marks the reserved collections at the first login).
fn server_keeps_marks(collections: &[CollectionInfo]) -> bool {
    collections.iter().any(|info| info.agap_mark.is_some())
}

/// How many collections of any kind the user's homes hold, counted by PROPFIND Depth 1 on the
/// server itself (not through the gateway, nor the adapter's filters).
async fn collections_on_server(user: &str) -> usize {
    let client = agap_adapter_dav::DavClient::new(&dav_root(), user, &password(user)).expect("client");
    let homes = client.discover(&dav_root(), "caldav").await.expect("discover");
    let mut homes: Vec<url::Url> = [homes.calendar_home, homes.addressbook_home].into_iter().flatten().collect();
    homes.dedup();
    let mut count = 0;
    for home in homes {
        let response = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(b"PROPFIND").expect("method"), home.clone())
            .basic_auth(user, Some(password(user)))
            .header("Depth", "1")
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(r#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>"#)
            .send()
            .await
            .expect("PROPFIND");
        assert_eq!(response.status().as_u16(), 207, "PROPFIND {home}");
        let responses =
            agap_adapter_dav::parse_multistatus(&response.text().await.expect("body")).expect("multistatus");
        count += responses
            .iter()
            .filter(|r| r.href.trim_end_matches('/') != home.path().trim_end_matches('/'))
            .filter(|r| r.prop("DAV:", "resourcetype").is_some_and(|t| t.child("DAV:", "collection").is_some()))
            .count();
    }
    count
}

/// A raw HTTP request as another DAV client would send it.
async fn dav_request(user: &str, method: &str, path: &str, body: Option<&str>) -> reqwest::StatusCode {
    let url = dav_root().join(path).expect("url");
    let mut request = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url)
        .basic_auth(user, Some(password(user)));
    if let Some(body) = body {
        request = request.header("Content-Type", "text/calendar; charset=utf-8").body(body.to_owned());
    }
    request.send().await.expect("request").status()
}

fn event_ics(uid: &str, summary: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other client//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20110531T121000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// Example 7.11 (Fig 153) as the client sends it.
pub(crate) const FIG_153: [&str; 11] = [
    "<VEVENT>",
    "  <UID>20110531T114600Z-123456@agap.at</UID>",
    "  <DTSTAMP>2011-05-31T12:10:00Z</DTSTAMP>",
    "  <DTSTART>2011-06-07T18:00:00Z</DTSTART>",
    "  <DTEND>2011-06-07T24:00:00Z</DTEND>",
    "  <SUMMARY>AGAP RFC Party</SUMMARY>",
    "  <DESCRIPTION>Celebration of a new revision!",
    "0.4</DESCRIPTION>",
    "  <VALARM>",
    "    20110607T170000Z-20110531T114600Z-123456@agap.at</VALARM>",
    "</VEVENT>",
];

/// The alarm of Fig 5, without its inline audio: Radicale 3.1 refuses every inline binary
/// ATTACH (its vobject fails to serialise it: 400), which the gateway reports as 511.
pub(crate) const FIG_5: [&str; 8] = [
    "<VALARM>",
    "  <UID>20110607T170000Z-20110531T114600Z-123456@agap.at</UID>",
    "  <RELATED-TO SOURCE=\"vevent\">20110531T114600Z-123456@agap.at</RELATED-TO>",
    "  <TRIGGER RELATED=\"start\">2011-06-07T17:00:00Z</TRIGGER>",
    "  <REPEAT>3</REPEAT>",
    "  <DURATION>PT15M</DURATION>",
    "  <ACTION>AUDIO</ACTION>",
    "</VALARM>",
];

/// Example 7.10 (Fig 152).
pub(crate) const FIG_152: [&str; 9] = [
    "<VCARD>",
    "   <VERSION>3.0</VERSION>",
    "   <FN>Iulian Radu</FN>",
    "   <N>Radu;Iulian;;Dipl.Ing.;</N>",
    "   <ORG>Example Com;European Division</ORG>",
    "   <EMAIL TYPE=\"internet,home\">iulian.radu@gmx.at</EMAIL>",
    "   <TZ>+01:00</TZ>",
    "   <REV>2011-05-31T18:46:00Z</REV>",
    "</VCARD>",
];

/// The UID in "... (UID is N)".
pub fn stored_uid(reply: &crate::harness::Reply) -> String {
    assert_eq!(reply.code, 200, "{reply:?}");
    let start = reply.text.find("(UID is ").expect("a UID in the reply") + 8;
    reply.text[start..].trim_end_matches(')').to_owned()
}

async fn find(client: &mut Client, filter: &[&str]) -> Vec<String> {
    let reply = client.filtered("FIND", filter).await;
    assert_eq!(reply.code, 200, "{filter:?}: {reply:?}");
    reply.lines
}

fn joined(reply: &crate::harness::Reply) -> String {
    reply.lines.join("\n")
}

fn stat_value(reply: &crate::harness::Reply, key: &str) -> String {
    reply
        .lines
        .iter()
        .find_map(|line| line.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} in {reply:?}"))
        .to_owned()
}

#[tokio::test]
async fn reserved_collections_exist_are_public_and_advertised() {
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.client().await;
    let capa = client.expect("CAPA", 200).await;
    for kind in ["ADDR", "CALE", "JRNL", "TASK"] {
        assert!(capa.lines.iter().any(|line| line == kind), "{capa:?}");
    }
    client.login("user41").await;
    let list = client.expect("LIST /*", 200).await;
    for line in ["CALE /CALENDAR", "TASK /TASK", "JRNL /JOURNAL", "ADDR /CONTACT", "MESG /INBOX"] {
        assert!(list.lines.iter().any(|l| l == line), "{line} in {list:?}");
    }
    client.expect("SLCT /CALENDAR", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert_eq!(stat_value(&stat, "TYPE"), "CALE");
    assert_eq!(stat_value(&stat, "TAGS"), "RESERVED PUBLIC");
    assert_eq!(stat_value(&stat, "TOTAL"), "0");
    client.expect("DELF", 511).await;
    client.expect("NAME Other", 511).await;
    client.expect("MAKE CALE /CALENDAR", 511).await;
    // A second login finds the same collections instead of making new ones.
    let mut again = gateway.login("user41").await;
    again.expect("SLCT /CONTACT", 200).await;
    let calendars = dav_account("user41").await.list_collections().await.expect("collections");
    assert_eq!(calendars.len(), 4, "{calendars:?}");
}

#[tokio::test]
async fn events_and_alarms_examples_7_8_and_7_11() {
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login("user42").await;
    client.expect("SLCT /CALENDAR", 200).await;
    let event = stored_uid(&client.stor(&FIG_153).await);
    // The event names its alarm before the alarm is stored: the link stays with the event.
    let before_alarm = joined(&client.expect(&format!("RETR {event}"), 200).await);
    assert!(
        before_alarm.contains("<VALARM>20110607T170000Z-20110531T114600Z-123456@agap.at</VALARM>"),
        "{before_alarm}"
    );
    assert_eq!(find(&mut client, &[]).await, std::slice::from_ref(&event), "a link is no alarm item");
    // Fig 5 with its inline audio: a server stores it (Cyrus) or refuses it (Radicale 3.1's
    // vobject cannot write inline binaries: 400), wholly either way.
    let mut with_audio: Vec<&str> = FIG_5.to_vec();
    with_audio.insert(7, "  <ATTACH FMTTYPE=\"audio/mpeg\" ENCODED=\"base64\">ABCDEFGHIA==</ATTACH>");
    let audio = client.stor(&with_audio).await;
    match audio.code {
        200 => {
            let alarm = stored_uid(&audio);
            let text = joined(&client.expect(&format!("RETR {alarm}"), 200).await);
            for part in ["FMTTYPE=\"audio/mpeg\"", "ENCODED=\"base64\"", "ABCDEFGHIA=="] {
                assert!(text.contains(part), "{part} in {text}");
            }
        }
        511 => assert_eq!(find(&mut client, &[]).await, std::slice::from_ref(&event), "nothing stored"),
        _ => panic!("the inline audio is stored or refused: {audio:?}"),
    }
    let alarm = stored_uid(&client.stor(&FIG_5).await);
    assert!(alarm.parse::<u64>().expect("number") > event.parse::<u64>().expect("number"));
    let suid = client.expect("SUID", 200).await;
    assert_eq!(suid.lines, std::slice::from_ref(&alarm));
    assert_eq!(find(&mut client, &[]).await, [event.clone(), alarm.clone()]);
    assert_eq!(find(&mut client, &["IS /VEVENT/SUMMARY = 'AGAP RFC Party'"]).await, std::slice::from_ref(&event));
    assert!(find(&mut client, &["IS /VEVENT/SUMMARY = '*RFC*'"]).await.is_empty(), "IS is exact (IS-GLOB-7.8)");
    assert_eq!(find(&mut client, &["IS /VALARM/ACTION = 'AUDIO'"]).await, std::slice::from_ref(&alarm));

    let rendered = client.expect(&format!("RETR {event}"), 200).await;
    let text = joined(&rendered);
    for part in [
        "<VEVENT>",
        "<UID>20110531T114600Z-123456@agap.at</UID>",
        "<DTSTART>2011-06-07T18:00:00Z</DTSTART>",
        "<SUMMARY>AGAP RFC Party</SUMMARY>",
        "<DESCRIPTION>Celebration of a new revision!\n0.4</DESCRIPTION>",
        "<VALARM>20110607T170000Z-20110531T114600Z-123456@agap.at</VALARM>",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    assert!(!text.contains("X-AGAP"), "{text}");
    let summary = client.expect(&format!("RETR {event} /VEVENT/SUMMARY"), 200).await;
    assert_eq!(summary.lines, ["AGAP RFC Party"]);
    let alarm_text = joined(&client.expect(&format!("RETR {alarm}"), 200).await);
    for part in ["<VALARM>", "RELATED-TO SOURCE=\"vevent\"", "<ACTION>AUDIO</ACTION>", "<TRIGGER RELATED=\"start\">"] {
        assert!(alarm_text.contains(part), "{part} in {alarm_text}");
    }
    client.expect(&format!("RETR {event} /VEVENT/NOPE"), 511).await;
    client.expect("RETR 999999", 511).await;

    // Tags live in the event upstream and never show in its rendering.
    let gtag = client.expect(&format!("GTAG {event}"), 200).await;
    assert!(gtag.lines.is_empty());
    client.expect(&format!("STAG {event} + SEEN FLAG=Red"), 200).await;
    assert_eq!(client.expect(&format!("GTAG {event}"), 200).await.lines, ["FLAG=Red", "SEEN"]);
    assert_eq!(joined(&client.expect(&format!("RETR {event}"), 200).await), text, "tags do not change the rendering");
    assert_eq!(find(&mut client, &["TAG FLAG=Red"]).await, std::slice::from_ref(&event));
    client.expect(&format!("STAG {alarm} + SEEN"), 511).await;
    client.expect(&format!("STAG {event} - FLAG"), 200).await;
    assert_eq!(client.expect(&format!("GTAG {event}"), 200).await.lines, ["SEEN"]);

    // STOR of the same iCalendar UID changes the event in place and keeps its AGAP UID.
    let mut changed: Vec<&str> = FIG_153.to_vec();
    changed[5] = "  <SUMMARY>AGAP RFC Party, moved</SUMMARY>";
    assert_eq!(stored_uid(&client.stor(&changed).await), event);
    assert!(joined(&client.expect(&format!("RETR {event}"), 200).await).contains("<VALARM>"), "the alarm stays");
    assert_eq!(client.expect(&format!("GTAG {event}"), 200).await.lines, ["SEEN"], "so do the tags");

    client.expect(&format!("DELE {alarm}"), 200).await;
    assert!(!joined(&client.expect(&format!("RETR {event}"), 200).await).contains("<VALARM>"));
    client.expect(&format!("RETR {alarm}"), 511).await;
    client.expect(&format!("DELE {event}"), 200).await;
    assert!(find(&mut client, &[]).await.is_empty());
    // Bad input: nothing stored, the session goes on.
    assert_eq!(client.stor(&["<VCARD><FN>x</FN></VCARD>"]).await.code, 511);
    assert_eq!(client.stor(&["<VEVENT><SUMMARY>broken</VEVENT>"]).await.code, 511);
    assert!(find(&mut client, &[]).await.is_empty());
}

#[tokio::test]
async fn find_is_exact_beyond_ascii_and_events_copy_and_move_between_calendars() {
    let user = "user91";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    client.expect("MAKE CALE /Elsewhere", 200).await;
    client.expect("SLCT /CALENDAR", 200).await;
    let event = |uid: &str, summary: &str| {
        format!(
            "<VEVENT><UID>{uid}</UID><DTSTART>2030-05-02T09:00:00Z</DTSTART><DURATION>PT1H</DURATION><SUMMARY>{summary}</SUMMARY></VEVENT>"
        )
    };
    let dentist = stored_uid(&client.stor(&[event("dentist@x", "Zahnarzt Müller").as_str()]).await);
    let party = stored_uid(&client.stor(&[event("party@x", "Gartenfest MÜLLER").as_str()]).await);
    // FIND is exact whatever the server's collations do beyond ASCII (the query it gets is a
    // superset, or none).
    assert_eq!(find(&mut client, &["IS /VEVENT/SUMMARY = 'Zahnarzt Müller'"]).await, std::slice::from_ref(&dentist));
    assert_eq!(find(&mut client, &["IS /VEVENT/SUMMARY = 'Gartenfest MÜLLER'"]).await, std::slice::from_ref(&party));
    for near_miss in ["zahnarzt müller", "Zahnarzt MÜLLER", "Zahnarzt Muller"] {
        assert!(find(&mut client, &[&format!("IS /VEVENT/SUMMARY = '{near_miss}'")]).await.is_empty(), "{near_miss}");
    }

    // A copy is an item of its own in the other calendar; the source stays. On a server that
    // keeps iCalendar UIDs unique per user (Cyrus) it gets a fresh UID (COPY-FRESH-UID).
    client.expect(&format!("STAG {dentist} + FLAG=Blue"), 200).await;
    client.expect(&format!("COPY {dentist} /Elsewhere"), 200).await;
    client.expect(&format!("MOVE {party} /Elsewhere"), 200).await;
    assert_eq!(find(&mut client, &[]).await, std::slice::from_ref(&dentist), "the copied stays, the moved went");
    assert!(joined(&client.expect(&format!("RETR {dentist}"), 200).await).contains("<UID>dentist@x</UID>"));
    client.expect("SLCT /Elsewhere", 200).await;
    let there = find(&mut client, &[]).await;
    assert_eq!(there.len(), 2, "{there:?}");
    let copy = find(&mut client, &["IS /VEVENT/SUMMARY = 'Zahnarzt Müller'"]).await;
    assert_eq!(copy.len(), 1, "{there:?}");
    assert_eq!(client.expect(&format!("GTAG {}", copy[0]), 200).await.lines, ["FLAG=Blue"], "tags travel");
    let moved = find(&mut client, &["IS /VEVENT/SUMMARY = 'Gartenfest MÜLLER'"]).await;
    assert_eq!(moved.len(), 1, "{there:?}");
    let moved_text = joined(&client.expect(&format!("RETR {}", moved[0]), 200).await);
    assert!(moved_text.contains("<UID>party@x</UID>"), "a moved item stays the same item: {moved_text}");
    // Copied back: where the copy kept the UID, the source folder holds it already (511,
    // nothing changes); where it got its own, it is one more item. Never a half-done one.
    let back = client.command(&format!("COPY {} /CALENDAR", copy[0])).await;
    client.expect("SLCT /CALENDAR", 200).await;
    let in_calendar = find(&mut client, &["IS /VEVENT/SUMMARY = 'Zahnarzt Müller'"]).await;
    match back.code {
        200 => assert_eq!(in_calendar.len(), 2, "{back:?}"),
        511 => assert_eq!(in_calendar, [dentist], "{back:?}"),
        _ => panic!("{back:?}"),
    }
}

#[tokio::test]
async fn a_refused_item_is_refused_whole_with_the_servers_explanation() {
    let user = "user92";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /CALENDAR", 200).await;
    // RFC 5545 3.6.1 allows a DATE-TIME start without an end (the event ends as it starts);
    // Cyrus 3.6 refuses it with valid-calendar-data and says why.
    let open_end = client
        .stor(&[
            "<VEVENT><UID>open-end@x</UID><DTSTART>2030-06-01T09:00:00Z</DTSTART><SUMMARY>Open end</SUMMARY></VEVENT>",
        ])
        .await;
    match open_end.code {
        200 => assert_eq!(find(&mut client, &[]).await, [stored_uid(&open_end)]),
        511 => {
            // The precondition and the server's words after it, on one bounded line.
            let said = open_end.text.split_once("(valid-calendar-data: ").map(|(_, said)| said);
            assert!(said.is_some_and(|said| said.len() > 2 && said.ends_with(')')), "{open_end:?}");
            assert!(open_end.text.len() < 400, "{open_end:?}");
            assert!(find(&mut client, &[]).await.is_empty(), "nothing stored");
        }
        _ => panic!("stored or refused: {open_end:?}"),
    }
    client.expect("NOOP", 200).await;
}

#[tokio::test]
async fn contacts_examples_7_7_and_7_10() {
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login("user43").await;
    client.expect("SLCT /CONTACT", 200).await;
    let contact = stored_uid(&client.stor(&FIG_152).await);
    assert_eq!(
        find(&mut client, &["OR REGEX /VCARD/FN = 'RADU.*?'", "  REGEX /VCARD/FN = 'Iulian.*'"]).await,
        std::slice::from_ref(&contact)
    );
    assert_eq!(find(&mut client, &["IS /VCARD/FN = 'Iulian Radu'"]).await, std::slice::from_ref(&contact));
    let text = joined(&client.expect(&format!("RETR {contact}"), 200).await);
    for part in [
        "<VCARD>",
        "<FN>Iulian Radu</FN>",
        "<N>Radu;Iulian;;Dipl.Ing.;</N>",
        "<ORG>Example Com;European Division</ORG>",
        "<EMAIL TYPE=\"internet,home\">iulian.radu@gmx.at</EMAIL>",
        "<TZ>+01:00</TZ>",
        "<REV>2011-05-31T18:46:00Z</REV>",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    assert_eq!(client.expect(&format!("RETR {contact} /VCARD/EMAIL"), 200).await.lines, ["iulian.radu@gmx.at"]);
    client.expect(&format!("STAG {contact} = VIP"), 200).await;
    assert_eq!(client.expect(&format!("GTAG {contact}"), 200).await.lines, ["VIP"]);
    client.expect("MAKE ADDR /Friends", 200).await;
    let copied = client.expect(&format!("COPY {contact} /Friends"), 200).await;
    assert!(copied.text.contains("/Friends"), "{copied:?}");
    client.expect(&format!("COPY {contact} /CALENDAR"), 511).await;
    client.expect(&format!("COPY {contact} /INBOX"), 511).await;
    client.expect("SLCT /Friends", 200).await;
    let in_friends = find(&mut client, &[]).await;
    assert_eq!(in_friends.len(), 1);
    assert_eq!(client.expect(&format!("GTAG {}", in_friends[0]), 200).await.lines, ["VIP"], "tags travel");
    assert_eq!(client.filtered("FDEL", &["TAG VIP"]).await.code, 200);
    assert!(find(&mut client, &[]).await.is_empty());
    client.expect("DELF", 200).await;
}

fn todo(uid: &str, summary: &str) -> Vec<String> {
    vec![
        "<VTODO>".into(),
        format!("<UID>{uid}</UID>"),
        "<DTSTAMP>2011-05-31T18:46:00Z</DTSTAMP>".into(),
        "<DUE>2011-06-07T14:00:00Z</DUE>".into(),
        format!("<SUMMARY>{summary}</SUMMARY>"),
        "<PRIORITY>1</PRIORITY>".into(),
        "<STATUS>NEEDS-ACTION</STATUS>".into(),
        "</VTODO>".into(),
    ]
}

#[tokio::test]
async fn tasks_and_journals_in_folders_made_anywhere() {
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login("user44").await;
    client.expect("MAKE FOLD /Work", 200).await;
    client.expect("MAKE TASK /Work/Todo", 200).await;
    client.expect("MAKE TASK /Work/Todo/Later", 200).await;
    client.expect("MAKE TASK /Work/Todo", 511).await;
    let list = client.expect("LIST /Work/*", 200).await;
    assert_eq!(list.lines, ["TASK /Work/Todo"]);
    client.expect("SLCT /Work/Todo", 200).await;
    let mut uids = Vec::new();
    for n in 1..=3 {
        let lines = todo(&format!("task-{n}@example.com"), &format!("Task {n}"));
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        uids.push(stored_uid(&client.stor(&lines).await));
    }
    let text = joined(&client.expect(&format!("RETR {}", uids[0]), 200).await);
    assert!(
        text.contains("<DUE>2011-06-07T14:00:00Z</DUE>") && text.contains("<STATUS>NEEDS-ACTION</STATUS>"),
        "{text}"
    );
    assert_eq!(find(&mut client, &["IS /VTODO/SUMMARY = 'Task 2'"]).await, std::slice::from_ref(&uids[1]));
    client.expect(&format!("MOVE {} /Work/Todo/Later", uids[0]), 200).await;
    client.expect(&format!("COPY {} /TASK", uids[1]), 200).await;
    client.expect(&format!("COPY {} /JOURNAL", uids[1]), 511).await;
    assert_eq!(find(&mut client, &[]).await, uids[1..]);
    assert_eq!(client.filtered("FMOV /Work/Todo/Later", &["IS /VTODO/SUMMARY = 'Task 3'"]).await.code, 200);
    // A server that keeps iCalendar UIDs unique per user (Cyrus) gives every copy a UID of its
    // own (COPY-FRESH-UID), so a copy never clashes with the target; elsewhere a collection
    // holds one resource per UID (RFC 4791 4.1): task 2 is in /TASK already, so the copy is
    // refused and nothing changes.
    client.expect("SLCT /TASK", 200).await;
    let copied = find(&mut client, &[]).await;
    let copy_text = joined(&client.expect(&format!("RETR {}", copied[0]), 200).await);
    let fresh_uids = !copy_text.contains("<UID>task-2@example.com</UID>");
    client.expect("SLCT /Work/Todo", 200).await;
    let (code, in_task) = if fresh_uids { (200, 2) } else { (511, 1) };
    assert_eq!(client.filtered("FCPY /TASK", &["UID 1:999999"]).await.code, code);
    client.expect("CPYF /Work/Todo/Later", 200).await;
    client.expect("SLCT /Work/Todo/Later", 200).await;
    assert_eq!(find(&mut client, &[]).await.len(), 3, "moved 1 and 3, copied 2");
    client.expect("SLCT /TASK", 200).await;
    assert_eq!(find(&mut client, &[]).await.len(), in_task, "task 2 once, or its copies");
    client.expect("SLCT /Work/Todo", 200).await;
    client.expect("NAME Now", 200).await;
    let list = client.expect("LIST /Work/*", 200).await;
    assert_eq!(list.lines, ["TASK /Work/Now"]);
    assert_eq!(client.expect("LIST /Work/Now/*", 200).await.lines, ["TASK /Work/Now/Later"], "children follow");
    if !fresh_uids {
        client.expect("MOVF /TASK", 511).await; // task 2 is there already: nothing moves
        assert_eq!(find(&mut client, &[]).await.len(), 1);
    }
    client.expect("MAKE TASK /Archive", 200).await;
    assert_eq!(client.expect("MOVF /Archive", 200).await.text, "OK MOVF completed (1 items)");
    assert!(find(&mut client, &[]).await.is_empty());
    client.expect("SLCT /Work", 200).await;
    client.expect("DELF", 200).await;
    assert!(!client.expect("LIST /*", 200).await.lines.iter().any(|line| line.contains("/Work")));

    client.expect("SLCT /JOURNAL", 200).await;
    let entry = stored_uid(
        &client
            .stor(&[
                "<VJOURNAL>",
                "<UID>20110531T184600Z-123456@agap.at</UID>",
                "<DTSTAMP>2011-06-07T13:52:38Z</DTSTAMP>",
                "<DTSTART>2011-06-07T13:52:38Z</DTSTART>",
                "<SUMMARY>Revise AGAP Internet-Draft</SUMMARY>",
                "<DESCRIPTION>1. The draft was revised\\, saved and closed.",
                "2. It is ready to be published.</DESCRIPTION>",
                "</VJOURNAL>",
            ])
            .await,
    );
    let text = joined(&client.expect(&format!("RETR {entry}"), 200).await);
    assert!(text.contains("<DESCRIPTION>1. The draft was revised\\, saved and closed.\n2. It is ready"), "{text}");
    client.expect(&format!("STAG {entry} + SEEN"), 200).await;
    assert_eq!(client.filtered("FTAG + DONE", &["TAG SEEN"]).await.code, 200);
    assert_eq!(client.expect(&format!("GTAG {entry}"), 200).await.lines, ["DONE", "SEEN"]);
    client.expect(&format!("DELE {entry}"), 200).await;
    assert!(find(&mut client, &[]).await.is_empty());
}

#[tokio::test]
async fn the_uid_map_follows_changes_made_by_another_dav_client() {
    let user = "user45";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    client.expect("MAKE CALE /Shared", 200).await;
    client.expect("SLCT /Shared", 200).await;
    let first = stored_uid(
        &client
            .stor(&["<VEVENT><UID>keep@x</UID><DTSTART>2030-01-01T10:00:00Z</DTSTART><DURATION>PT1H</DURATION><SUMMARY>Keep</SUMMARY></VEVENT>"])
            .await,
    );
    let second = stored_uid(
        &client
            .stor(&["<VEVENT><UID>drop@x</UID><DTSTART>2030-01-02T10:00:00Z</DTSTART><DURATION>PT1H</DURATION><SUMMARY>Drop</SUMMARY></VEVENT>"])
            .await,
    );
    let before = client.expect("STAT", 200).await;
    client.expect("QUIT", 200).await;

    // Between the sessions another client adds one event, changes one and deletes one.
    let collection = collection_marked(user, "CALE /Shared").await;
    let dav = dav_account(user).await;
    let items = dav.list_items(&collection.id, agap_adapter_api::collection::ItemKind::Events).await.expect("items");
    assert_eq!(items.len(), 2);
    let mut keep_href = None;
    for item in &items {
        let data = dav
            .get_item(&item.href, agap_adapter_api::collection::ItemKind::Events)
            .await
            .expect("get")
            .expect("there");
        let body = String::from_utf8_lossy(&data.body).into_owned();
        if body.contains("keep@x") {
            let changed = body.replace("SUMMARY:Keep", "SUMMARY:Kept and changed");
            assert!(dav_request(user, "PUT", &item.href, Some(&changed)).await.is_success());
            keep_href = Some(item.href.clone());
        } else {
            assert!(dav_request(user, "DELETE", &item.href, None).await.is_success());
        }
    }
    assert!(keep_href.is_some());
    let added = format!("{}other-client.ics", collection.id);
    assert!(
        dav_request(user, "PUT", &added, Some(&event_ics("new@x", "Added elsewhere", "20300103T100000Z")))
            .await
            .is_success()
    );

    let mut client = gateway.login(user).await;
    client.expect("SLCT /Shared", 200).await;
    let found = find(&mut client, &[]).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0], first, "the changed event keeps its UID");
    assert!(found[1].parse::<u64>().expect("n") > second.parse::<u64>().expect("n"), "the new one gets a bigger UID");
    assert!(joined(&client.expect(&format!("RETR {first}"), 200).await).contains("Kept and changed"));
    client.expect(&format!("RETR {second}"), 511).await;
    let after = client.expect("STAT", 200).await;
    assert_eq!(stat_value(&after, "UCID"), stat_value(&before, "UCID"), "no renumbering");
    assert_ne!(stat_value(&after, "FCID"), stat_value(&before, "FCID"));
    assert_eq!(stat_value(&after, "TOTAL"), "2");
    assert_eq!(
        find(&mut client, &["IS /VEVENT/DTSTART >= '2030-01-02T00:00:00Z'"]).await,
        std::slice::from_ref(&found[1])
    );
    assert_eq!(find(&mut client, &["IS /VEVENT/DTSTART < '2030-01-02T00:00:00Z'"]).await, std::slice::from_ref(&first));
}

/// Where the DAV server keeps dead properties, a collection's mark lives on it: another gateway
/// instance (or this one after losing its store) shows the folder at its place with its type.
/// Where it keeps none, the mark lives in the store: the other instance shows the collection in
/// the root under its display name, with its items (docs/calendars.md). Either way nothing is
/// lost, and the other instance makes no new collection.
#[tokio::test]
async fn folders_survive_a_lost_store_and_are_seen_by_another_instance() {
    let user = "user46";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    client.expect("MAKE FOLD /Projects", 200).await;
    client.expect("MAKE CALE /Projects/Plan", 200).await;
    client.expect("SLCT /Projects/Plan", 200).await;
    let uid = stored_uid(
        &client
            .stor(&["<VEVENT><UID>plan@x</UID><DTSTART>2030-02-01T09:00:00Z</DTSTART><DURATION>PT1H</DURATION><SUMMARY>Plan</SUMMARY></VEVENT>"])
            .await,
    );
    let ucid = stat_value(&client.expect("STAT", 200).await, "UCID");
    let keeps_marks = server_keeps_marks(&dav_account(user).await.list_collections().await.expect("collections"));
    let (plan, roadmap, parent) =
        if keeps_marks { ("/Projects/Plan", "/Projects/Roadmap", "/Projects/*") } else { ("/Plan", "/Roadmap", "/*") };
    let before = collections_on_server(user).await;

    // Another instance with its own (empty) store: the folder and its item are there.
    let other = TestGateway::start_with(with_dav).await;
    let mut elsewhere = other.login(user).await;
    assert_eq!(collections_on_server(user).await, before, "the other instance made no collection");
    let list = elsewhere.expect(&format!("LIST {parent}"), 200).await;
    assert!(list.lines.contains(&format!("CALE {plan}")), "{list:?}");
    for reserved in ["CALE /CALENDAR", "TASK /TASK", "JRNL /JOURNAL", "ADDR /CONTACT"] {
        assert!(elsewhere.expect("LIST /*", 200).await.lines.iter().any(|l| l == reserved), "{reserved}");
    }
    elsewhere.expect(&format!("SLCT {plan}"), 200).await;
    let found = find(&mut elsewhere, &["IS /VEVENT/SUMMARY = 'Plan'"]).await;
    assert_eq!(found.len(), 1);
    assert_ne!(stat_value(&elsewhere.expect("STAT", 200).await, "UCID"), ucid, "a rebuilt map is a new UID space");

    client.expect("NAME Roadmap", 200).await;
    // The other instance keeps its listing for `[dav] listing_cache_secs`; CHNG lists anew.
    elsewhere.expect("CHNG", 200).await;
    assert!(elsewhere.expect(&format!("LIST {parent}"), 200).await.lines.contains(&format!("CALE {roadmap}")));
    client.expect(&format!("RETR {uid}"), 200).await;
    client.expect("DELF", 200).await;
    elsewhere.expect("CHNG", 200).await;
    assert!(!elsewhere.expect("LIST /*", 200).await.lines.iter().any(|l| l.contains("Roadmap")));
    assert_eq!(collections_on_server(user).await, before - 1);
}

/// A session finds the reserved collections made before instead of making new ones, on every
/// server: 20 sessions in a row, each checking (no listing period), leave the number of
/// collections as the first left it.
#[tokio::test]
async fn twenty_logins_make_no_new_collection() {
    let user = "user63";
    let gateway = TestGateway::start_with(|config| {
        with_dav(config);
        config.dav.listing_cache_secs = 0;
    })
    .await;
    gateway.login(user).await.expect("LIST", 200).await;
    let after_first = collections_on_server(user).await;
    assert!(after_first >= 4, "the four reserved collections at least: {after_first}");
    for _ in 0..20 {
        gateway.login(user).await.expect("LIST", 200).await;
    }
    assert_eq!(collections_on_server(user).await, after_first);
    let list = gateway.login(user).await.expect("LIST /*", 200).await;
    for reserved in ["CALE /CALENDAR", "TASK /TASK", "JRNL /JOURNAL", "ADDR /CONTACT"] {
        assert_eq!(list.lines.iter().filter(|l| *l == reserved).count(), 1, "{reserved} in {list:?}");
    }
}

/// Makes a calendar in the user's calendar home as another DAV client would, named `name`.
async fn calendar_made_elsewhere(user: &str, name: &str) {
    let client = agap_adapter_dav::DavClient::new(&dav_root(), user, &password(user)).expect("client");
    let mut home =
        client.discover(&dav_root(), "caldav").await.expect("discover").calendar_home.expect("a calendar home");
    if !home.path().ends_with('/') {
        home.set_path(&format!("{}/", home.path()));
    }
    let url = home.join(&format!("{}/", name.to_lowercase())).expect("url");
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>{name}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#
    );
    crate::dav::make(user, &url, "MKCALENDAR", &body).await;
}

/// The list of collections is kept per user for `[dav] listing_cache_secs` and shared by the
/// user's sessions, so that a login and most commands ask the DAV server nothing: a calendar
/// another client makes shows in LIST at the latest once that time is over, and at once after
/// CHNG, which always lists anew.
#[tokio::test]
async fn a_calendar_made_elsewhere_shows_after_the_listing_period_and_at_once_on_chng() {
    let user = "user100";
    let cached = TestGateway::start_with(|config| {
        with_dav(config);
        config.dav.listing_cache_secs = 600;
    })
    .await;
    let mut client = cached.login(user).await;
    assert!(client.expect("LIST /*", 200).await.lines.contains(&"CALE /CALENDAR".to_owned()));
    calendar_made_elsewhere(user, "Elsewhere").await;
    let listed = |reply: &crate::harness::Reply| reply.lines.contains(&"CALE /Elsewhere".to_owned());
    assert!(!listed(&client.expect("LIST /*", 200).await), "the listing of a moment ago is used");
    let mut second = cached.login(user).await;
    assert!(!listed(&second.expect("LIST /*", 200).await), "and shared by the user's sessions");
    let changes = client.expect("CHNG", 200).await;
    assert!(changes.lines.iter().any(|line| line.ends_with(" /Elsewhere")), "CHNG lists anew: {changes:?}");
    assert!(listed(&second.expect("LIST /*", 200).await), "and the next LIST of any session shows it");

    let short = TestGateway::start_with(|config| {
        with_dav(config);
        config.dav.listing_cache_secs = 1;
    })
    .await;
    let mut client = short.login(user).await;
    client.expect("LIST /*", 200).await;
    calendar_made_elsewhere(user, "Later").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let list = client.expect("LIST /*", 200).await;
    assert!(list.lines.contains(&"CALE /Later".to_owned()), "shown once the period is over: {list:?}");
}

/// MAKE TASK and MAKE JRNL give TASK and JRNL folders even where the server ignores the component
/// set asked for (Xandikos makes every calendar take VEVENT, VTODO and VJOURNAL); the gateway
/// then takes only what the folder type holds.
#[tokio::test]
async fn task_and_journal_folders_keep_their_type_whatever_the_server_accepts() {
    let user = "user64";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    client.expect("MAKE TASK /Chores", 200).await;
    client.expect("MAKE JRNL /Diary", 200).await;
    let list = client.expect("LIST /*", 200).await;
    for line in ["TASK /Chores", "JRNL /Diary"] {
        assert!(list.lines.iter().any(|l| l == line), "{line} in {list:?}");
    }
    client.expect("SLCT /Chores", 200).await;
    assert_eq!(stat_value(&client.expect("STAT", 200).await, "TYPE"), "TASK");
    let lines = todo("chore@example.com", "Chore");
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let task = stored_uid(&client.stor(&lines).await);
    let event =
        ["<VEVENT><UID>not-a-task@x</UID><DTSTART>2030-01-01T10:00:00Z</DTSTART><SUMMARY>No</SUMMARY></VEVENT>"];
    assert_eq!(client.stor(&event).await.code, 511, "a TASK folder takes no VEVENT");
    assert_eq!(find(&mut client, &[]).await, [task]);
    client.expect("SLCT /Diary", 200).await;
    let entry = ["<VJOURNAL><UID>day@x</UID><DTSTART>2030-01-01T10:00:00Z</DTSTART><SUMMARY>Day</SUMMARY></VJOURNAL>"];
    let entry = stored_uid(&client.stor(&entry).await);
    assert_eq!(client.stor(&lines).await.code, 511, "a JRNL folder takes no VTODO");
    assert_eq!(find(&mut client, &[]).await, [entry]);
    // A later session (the tree built anew) sees the same types.
    let mut again = gateway.login(user).await;
    let list = again.expect("LIST /*", 200).await;
    assert!(list.lines.iter().any(|l| l == "TASK /Chores") && list.lines.iter().any(|l| l == "JRNL /Diary"));
}

#[tokio::test]
async fn concurrent_stores_never_share_a_uid() {
    let user = "user47";
    let gateway = TestGateway::start_with_dav().await;
    let mut setup = gateway.login(user).await;
    setup.expect("MAKE CALE /Busy", 200).await;
    let mut sessions = Vec::new();
    for session in 0..3 {
        let mut client = gateway.login(user).await;
        sessions.push(tokio::spawn(async move {
            client.expect("SLCT /Busy", 200).await;
            let mut uids = Vec::new();
            for n in 0..6 {
                let line = format!(
                    "<VEVENT><UID>s{session}-{n}@x</UID><DTSTART>2030-03-01T09:00:00Z</DTSTART><DURATION>PT1H</DURATION><SUMMARY>{session} {n}</SUMMARY></VEVENT>"
                );
                uids.push(stored_uid(&client.stor(&[line.as_str()]).await));
            }
            uids
        }));
    }
    let mut all = Vec::new();
    for session in sessions {
        all.extend(session.await.expect("session"));
    }
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 18, "{all:?}");
    setup.expect("SLCT /Busy", 200).await;
    assert_eq!(find(&mut setup, &[]).await.len(), 18);
}

/// The folder type and media type of one DAV resource, by its first item component.
fn resource_kind(text: &str) -> Option<(&'static str, &'static str)> {
    let first = text
        .lines()
        .filter_map(|line| line.trim_end().strip_prefix("BEGIN:"))
        .find(|name| ["VEVENT", "VTODO", "VJOURNAL", "VCARD"].contains(&name.to_ascii_uppercase().as_str()))?;
    Some(match first.to_ascii_uppercase().as_str() {
        "VEVENT" => ("CALE", "text/calendar"),
        "VTODO" => ("TASK", "text/calendar"),
        "VJOURNAL" => ("JRNL", "text/calendar"),
        _ => ("ADDR", "text/vcard"),
    })
}

/// A corpus file as the resources a CalDAV / CardDAV client would PUT for it, and whether it
/// had to be split or completed: many files are iTIP messages or exports, which no server stores
/// as they are. RFC 4791 4.1: one UID per calendar resource (with the file's VTIMEZONEs), no
/// METHOD, a UID on every component, everything inside one VCALENDAR (several calendars of one
/// file become one, with the first one's properties); RFC 6352 5.1: one vCard per resource, with
/// a UID. Nothing else is touched, so whatever the gateway changes afterwards shows in the
/// comparison.
fn dav_resources(raw: &[u8], tag: &str) -> (Vec<Vec<u8>>, bool) {
    let text = String::from_utf8_lossy(raw);
    let (resources, prepared) = match resource_kind(&text) {
        Some(("ADDR", _)) => card_resources(&text, tag),
        _ if !text.to_ascii_uppercase().contains("BEGIN:VCALENDAR") => {
            let wrapped = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//agap-gateway//tests//EN\r\n{text}\r\nEND:VCALENDAR\r\n"
            );
            (calendar_resources(&wrapped, tag).0, true)
        }
        _ => calendar_resources(&text, tag),
    };
    if prepared { (resources.into_iter().map(String::into_bytes).collect(), true) } else { (vec![raw.to_vec()], false) }
}

/// Physical lines grouped into logical ones (folds kept, CRLF between them).
fn logical_lines(text: &str) -> Vec<String> {
    let mut logical: Vec<String> = Vec::new();
    for line in text.split('\n').map(|line| line.trim_end_matches('\r')) {
        match logical.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push_str("\r\n");
                last.push_str(line);
            }
            _ if line.trim().is_empty() => {}
            _ => logical.push(line.to_owned()),
        }
    }
    logical
}

fn property_name(line: &str) -> String {
    line.split([':', ';']).next().unwrap_or_default().trim().to_ascii_uppercase()
}

fn property_value(line: &str) -> String {
    line.split_once(':').map(|(_, value)| value.trim().to_owned()).unwrap_or_default()
}

fn calendar_resources(text: &str, tag: &str) -> (Vec<String>, bool) {
    let (mut header, mut timezones) = (Vec::new(), Vec::new());
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let (mut depth, mut current, mut uid, mut prepared) = (0usize, Vec::new(), None::<String>, false);
    let mut calendars = 0;
    for line in logical_lines(text) {
        let name = property_name(&line);
        if name == "BEGIN" {
            depth += 1;
            if depth == 1 {
                calendars += 1;
                prepared |= calendars > 1;
                continue;
            }
        }
        match depth {
            0 => continue,
            1 if name == "END" => depth = 0,
            1 if name == "METHOD" => prepared = true,
            1 if calendars > 1 => {}
            1 => header.push(line),
            _ => {
                if depth == 2 && name == "UID" {
                    uid = Some(property_value(&line));
                }
                current.push(line);
                if name == "END" {
                    depth -= 1;
                    if depth == 1 {
                        let mut component = std::mem::take(&mut current);
                        if property_value(&component[0]).eq_ignore_ascii_case("VTIMEZONE") {
                            timezones.extend(component);
                            continue;
                        }
                        let uid = uid.take().unwrap_or_else(|| {
                            prepared = true;
                            let made = format!("{tag}-{}@agap-gateway.invalid", groups.len());
                            component.insert(1, format!("UID:{made}"));
                            made
                        });
                        match groups.iter_mut().find(|(known, _)| *known == uid) {
                            Some((_, lines)) => lines.extend(component),
                            None => groups.push((uid, component)),
                        }
                    }
                }
            }
        }
    }
    prepared |= groups.len() > 1;
    let resources = groups
        .into_iter()
        .map(|(_, components)| {
            let lines = std::iter::once("BEGIN:VCALENDAR".to_owned())
                .chain(header.iter().cloned())
                .chain(timezones.iter().cloned())
                .chain(components)
                .chain(std::iter::once("END:VCALENDAR".to_owned()));
            lines.map(|line| line + "\r\n").collect()
        })
        .collect();
    (resources, prepared)
}

fn card_resources(text: &str, tag: &str) -> (Vec<String>, bool) {
    let mut cards: Vec<Vec<String>> = Vec::new();
    let (mut current, mut prepared) = (Vec::new(), false);
    for line in logical_lines(text) {
        let name = property_name(&line);
        if name == "BEGIN" && current.is_empty() && property_value(&line).eq_ignore_ascii_case("VCARD") {
            current.push(line);
        } else if !current.is_empty() && name == "END" && property_value(&line).eq_ignore_ascii_case("VCARD") {
            if !current.iter().any(|line| property_name(line).rsplit('.').next() == Some("UID")) {
                prepared = true;
                current.push(format!("UID:{tag}-{}@agap-gateway.invalid", cards.len()));
            }
            current.push(line);
            cards.push(std::mem::take(&mut current));
        } else if !current.is_empty() {
            current.push(line);
        }
    }
    prepared |= cards.len() > 1;
    (cards.into_iter().map(|card| card.into_iter().map(|line| line + "\r\n").collect()).collect(), prepared)
}

/// The name of the pair's DAV server in integration/dav-fidelity-exceptions.tsv.
fn dav_server_name() -> &'static str {
    match crate::harness::backend_pair().dav {
        DavServer::Radicale => "radicale",
        DavServer::Cyrus => "cyrus",
        DavServer::Xandikos => "xandikos",
    }
}

/// The exceptions listed for the pair's DAV server (what a round trip shows depends on it alone):
/// lines `server TAB path TAB reason`.
fn dav_exceptions() -> BTreeMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/dav-fidelity-exceptions.tsv");
    let text = std::fs::read_to_string(path).expect("integration/dav-fidelity-exceptions.tsv");
    let mut exceptions = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
        let mut columns = line.splitn(3, '\t');
        let (Some(server), Some(name), Some(why)) = (columns.next(), columns.next(), columns.next()) else {
            panic!("dav-fidelity-exceptions.tsv: not server TAB path TAB reason: {line:?}");
        };
        assert!(["radicale", "cyrus", "xandikos"].contains(&server), "dav-fidelity-exceptions.tsv: {line:?}");
        assert!(!why.trim().is_empty(), "dav-fidelity-exceptions.tsv: an exception needs its reason: {line:?}");
        if server == dav_server_name() {
            exceptions.insert(name.to_owned(), why.to_owned());
        }
    }
    exceptions
}

/// Issue 5's round trip over integration/corpus/ical and integration/corpus/vcard: PUT raw by another
/// client, RETR, STOR the XML into another folder, RETR again: the renderings must be identical.
/// Every file that does not make it is listed with its reason in
/// integration/dav-fidelity-exceptions.tsv (the test fails on an unlisted failure, and on a listed
/// file that now passes).
#[tokio::test]
async fn every_corpus_calendar_and_card_survives_retr_stor_retr() {
    let user = "user48";
    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(user).await;
    for kind in ["CALE", "TASK", "JRNL", "ADDR"] {
        client.expect(&format!("MAKE {kind} /Raw{kind}"), 200).await;
        client.expect(&format!("MAKE {kind} /Copy{kind}"), 200).await;
    }
    // Another DAV client PUTs the raw resources and empties both folders after each file (no
    // SLCT needed for that; the gateway sees the deletions at its next listing).
    let other_client = dav_account(user).await;
    let mut raw_collections = BTreeMap::new();
    let mut all_collections = Vec::new();
    for kind in ["CALE", "TASK", "JRNL", "ADDR"] {
        let raw = collection_marked(user, &format!("{kind} /Raw{kind}")).await;
        let copy = collection_marked(user, &format!("{kind} /Copy{kind}")).await;
        raw_collections.insert(kind, raw.id.clone());
        all_collections.push((kind, raw));
        all_collections.push((kind, copy));
    }
    let mut files = crate::harness::corpus_files("ical");
    files.extend(crate::harness::corpus_files("vcard"));
    assert!(files.len() >= 370, "corpus missing");
    let http = reqwest::Client::new();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let (mut identical, mut without_items, mut prepared_files) = (0, 0, 0);
    for (index, file) in files.iter().enumerate() {
        let name = crate::harness::corpus_name(file);
        let raw = std::fs::read(file).expect("read");
        let (resources, prepared) = dav_resources(&raw, &format!("corpus-{index}"));
        let resources: Vec<(&str, &str, Vec<u8>)> = resources
            .into_iter()
            .filter_map(|resource| {
                let (kind, media) = resource_kind(&String::from_utf8_lossy(&resource))?;
                Some((kind, media, resource))
            })
            .collect();
        if resources.is_empty() {
            without_items += 1;
            continue;
        }
        prepared_files += usize::from(prepared);
        let mut kinds = std::collections::BTreeSet::new();
        let mut outcome = Ok(());
        for (number, (kind, media, body)) in resources.into_iter().enumerate() {
            kinds.insert(kind);
            // With the extension clients give such resources: Xandikos recognises calendar and
            // contact resources by it.
            let extension = if media.starts_with("text/vcard") { "vcf" } else { "ics" };
            let href = format!("{}corpus-{index}-{number}.{extension}", raw_collections[kind]);
            let response = http
                .put(dav_root().join(&href).expect("url"))
                .basic_auth(user, Some(password(user)))
                .header("Content-Type", media)
                .body(body)
                .send()
                .await
                .expect("PUT");
            let status = response.status();
            if !status.is_success() {
                // The server's own words (a DAV:error with its precondition), on one short line.
                let said = response.text().await.unwrap_or_default();
                let said: String = said.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
                outcome = Err(format!("PUT refused by the server: {status} {said}"));
                break;
            }
        }
        if outcome.is_ok() {
            for kind in &kinds {
                let raw = all_collections.iter().find(|(known, _)| known == kind).map(|(_, raw)| raw).expect("raw");
                outcome = round_trip(&mut client, kind, other_client.as_ref(), raw).await;
                if outcome.is_err() {
                    break;
                }
            }
        }
        match outcome {
            Ok(()) => identical += 1,
            Err(why) => {
                failures.insert(name, why);
            }
        }
        for (_, collection) in all_collections.iter().filter(|(kind, _)| kinds.contains(kind)) {
            for item in other_client.list_items(&collection.id, collection.kind).await.expect("listing") {
                other_client.delete_item(&item.href, None).await.expect("DELETE");
            }
        }
    }
    println!(
        "calendar and contact corpus round trip: {identical} of {} files identical ({without_items} without items, \
         {prepared_files} split or given UIDs as RFC 4791 4.1 / RFC 6352 5.1 ask before the PUT)",
        files.len() - without_items
    );
    let documented = dav_exceptions();
    for (name, why) in &failures {
        println!("  exception {name}: {why}");
    }
    let undocumented: Vec<String> = failures
        .iter()
        .filter(|(name, _)| !documented.contains_key(*name))
        .map(|(name, why)| format!("{name}\t{why}"))
        .collect();
    let fixed: Vec<&String> = documented.keys().filter(|name| !failures.contains_key(*name)).collect();
    assert!(undocumented.is_empty(), "undocumented round-trip failures:\n{}", undocumented.join("\n"));
    assert!(fixed.is_empty(), "listed as exceptions but now identical (update the list): {fixed:?}");
}

/// RETR every item of /Raw<kind>, STOR them into /Copy<kind> in order, RETR the copies. The raw
/// resources go before the STORs (as `dav`, another client): a server may keep an iCalendar UID
/// unique among all of a user's calendars (RFC 6638 3.2.4.1; Cyrus does), and the copies keep
/// the originals' UIDs.
async fn round_trip(
    client: &mut Client,
    kind: &str,
    dav: &dyn CollectionAccount,
    raw: &CollectionInfo,
) -> Result<(), String> {
    client.expect(&format!("SLCT /Raw{kind}"), 200).await;
    let uids = find(client, &[]).await;
    if uids.is_empty() {
        return Err("no item found in the raw resource".into());
    }
    let mut originals = Vec::new();
    for uid in &uids {
        let reply = client.command(&format!("RETR {uid}")).await;
        if reply.code != 200 {
            return Err(format!("RETR of the original: {} {}", reply.code, reply.text));
        }
        originals.push(reply.lines);
    }
    for item in dav.list_items(&raw.id, raw.kind).await.map_err(|e| format!("listing the raw resources: {e}"))? {
        dav.delete_item(&item.href, None).await.map_err(|e| format!("deleting a raw resource: {e}"))?;
    }
    client.expect(&format!("SLCT /Copy{kind}"), 200).await;
    for original in &originals {
        let lines: Vec<&str> = original.iter().map(String::as_str).collect();
        let stored = client.stor(&lines).await;
        if stored.code != 200 {
            return Err(format!("STOR: {} {}", stored.code, stored.text));
        }
    }
    let copies = find(client, &[]).await;
    if copies.len() != uids.len() {
        return Err(format!("{} items became {}", uids.len(), copies.len()));
    }
    for (original, uid) in originals.iter().zip(&copies) {
        let copy = client.command(&format!("RETR {uid}")).await;
        if copy.lines != *original {
            let at = original
                .iter()
                .zip(&copy.lines)
                .position(|(a, b)| a != b)
                .unwrap_or(original.len().min(copy.lines.len()));
            let show =
                |lines: &[String]| lines.get(at).map(|l| l.chars().take(100).collect::<String>()).unwrap_or_default();
            return Err(format!("line {at}: {:?} became {:?}", show(original), show(&copy.lines)));
        }
    }
    Ok(())
}
