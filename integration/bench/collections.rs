//! Calendars and contacts: the gateway against talking to Radicale directly.
//!
//! /CALENDAR and /CONTACT of one account are filled with AGAP_BENCH_DAV_ITEMS events and
//! contacts (default 5,000 each; every tenth event has an alarm), written into Radicale's storage.
//! Then, for each: FIND with the empty filter (every item) against the REPORT (calendar-query)
//! or PROPFIND a DAV client sends to list the collection with ETags, and RETR of a random item
//! against a GET of it. The first FIND, which builds the UID map (reading every event once to
//! find its alarm), is reported apart. Medians and ratios are printed.

use std::sync::Arc;

use agap_adapter_api::Credentials;
use agap_adapter_api::collection::{CollectionAccount, CollectionBackend, CollectionInfo, ItemKind};
use agap_adapter_dav::DavBackend;
use url::Url;

use crate::harness::{Backend, Client, DavServer, TestGateway, backend_pair, dav_server, password};
use crate::{Lcg, env_number, row};

const USER: &str = "user60";

/// The pair's Radicale: `fill` writes into Radicale's storage, which no other server reads.
pub(crate) fn radicale() -> &'static Backend {
    assert_eq!(backend_pair().dav, DavServer::Radicale, "the DAV benchmark needs Radicale (AGAP_TEST_BACKENDS unset)");
    dav_server()
}

pub(crate) fn root() -> Url {
    Url::parse(&format!("http://127.0.0.1:{}/", radicale().port)).expect("url")
}

pub(crate) fn event(n: usize) -> String {
    let alarm = if n.is_multiple_of(10) {
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
    } else {
        ""
    };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-event-{n}@example.com\r\n\
         DTSTAMP:20240101T000000Z\r\nDTSTART:2024{:02}{:02}T{:02}0000Z\r\nDURATION:PT1H\r\nSUMMARY:Bench event {n}\r\n\
         DESCRIPTION:Event number {n} of the benchmark\\, with a comma.\r\nLOCATION:Room {}\r\n{alarm}END:VEVENT\r\nEND:VCALENDAR\r\n",
        n % 12 + 1,
        n % 28 + 1,
        n % 24,
        n % 50
    )
}

pub(crate) fn contact(n: usize) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-contact-{n}@example.com\r\nFN:Bench Person {n}\r\nN:Person {n};Bench;;;\r\n\
         EMAIL;TYPE=internet,work:person{n}@example.com\r\nTEL;TYPE=cell:+43 1 {n:06}\r\nORG:Example Com\\, Inc.;Bench\r\nEND:VCARD\r\n"
    )
}

/// Puts `bodies` into the collection; returns the hrefs. Not by PUT: Radicale checks a new
/// resource's UID against every other one of the collection, so 5,000 PUTs cost O(n^2) and take
/// the better part of an hour. The files go where its multifilesystem storage keeps each
/// resource (`collection-root/<collection path>/<name>`), which it reads as if they had been
/// PUT; the operations measured afterwards all go over HTTP.
pub(crate) fn fill(collection: &str, extension: &str, bodies: Vec<String>) -> Vec<String> {
    let folder = radicale().dir().join("collections/collection-root").join(collection.trim_matches('/'));
    assert!(folder.is_dir(), "no Radicale collection at {}", folder.display());
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| {
            let name = format!("bench-{n}.{extension}");
            std::fs::write(folder.join(&name), body).expect("write a resource");
            format!("{collection}{name}")
        })
        .collect()
}

async fn find_all(client: &mut Client, expected: usize) {
    client.expect("FIND", 110).await;
    let found = client.expect("", 200).await.lines.len();
    assert_eq!(found, expected);
}

async fn get(http: &reqwest::Client, href: &str) {
    let response =
        http.get(root().join(href).expect("url")).basic_auth(USER, Some(password(USER))).send().await.expect("GET");
    assert!(response.status().is_success());
    assert!(!response.bytes().await.expect("body").is_empty());
}

struct Side<'a> {
    folder: &'a str,
    collection: CollectionInfo,
    kind: ItemKind,
    /// AGAP items: resources plus alarms.
    items: usize,
    hrefs: Vec<String>,
}

/// Runs the benchmark.
pub async fn run() {
    let count = env_number("AGAP_BENCH_DAV_ITEMS", 5_000);
    let iterations = env_number("AGAP_BENCH_ITERATIONS", 200);
    let finds = (iterations / 20).max(5);
    println!("\ncalendars and contacts: {count} events (one in ten with an alarm) and {count} contacts in Radicale");

    let gateway = TestGateway::start_with_dav().await;
    let mut client = gateway.login(USER).await;
    // The first LIST makes the reserved collections the items go into.
    client.expect("LIST", 200).await;
    // The first listing of 5,000 resources (Radicale builds its cache, the gateway its map).
    client.set_patience(std::time::Duration::from_secs(600));
    let dav: Arc<dyn CollectionAccount> =
        DavBackend::new(root()).open(&Credentials::new(USER, password(USER))).await.expect("DAV account");
    let collections = dav.list_collections().await.expect("collections");
    let marked = |mark: &str| {
        collections.iter().find(|info| info.agap_mark.as_deref() == Some(mark)).cloned().expect("a reserved collection")
    };
    let http = reqwest::Client::new();
    let start = std::time::Instant::now();
    let calendar = marked("CALE /CALENDAR");
    let event_hrefs = fill(&calendar.id, "ics", (0..count).map(event).collect());
    let book = marked("ADDR /CONTACT");
    let contact_hrefs = fill(&book.id, "vcf", (0..count).map(contact).collect());
    println!("filled in {:.1} s", start.elapsed().as_secs_f64());

    let sides = [
        Side {
            folder: "/CALENDAR",
            collection: calendar,
            kind: ItemKind::Events,
            items: count + count / 10,
            hrefs: event_hrefs,
        },
        Side { folder: "/CONTACT", collection: book, kind: ItemKind::Contacts, items: count, hrefs: contact_hrefs },
    ];
    println!("\n{:<34} {:>13} {:>13} {:>7}", "operation (median)", "gateway", "direct DAV", "ratio");
    for side in &sides {
        client.expect(&format!("SLCT {}", side.folder), 200).await;
        let cold = std::time::Instant::now();
        find_all(&mut client, side.items).await;
        println!("first FIND of {} (builds the UID map): {:.2} s", side.folder, cold.elapsed().as_secs_f64());
        let (through, plain) = alternate!(
            finds,
            |_i| find_all(&mut client, side.items).await,
            assert_eq!(dav.list_items(&side.collection.id, side.kind).await.expect("REPORT").len(), side.hrefs.len())
        );
        let listing = if side.kind == ItemKind::Contacts { "PROPFIND" } else { "REPORT" };
        row(&format!("FIND empty {} / {listing}", side.folder), through, plain);

        // UIDs follow the href order of the first listing; RETR random ones, GET random hrefs.
        let mut random = Lcg(7);
        let picks: Vec<usize> = (0..iterations).map(|_| random.below(side.hrefs.len())).collect();
        client.expect("FIND", 110).await;
        let uids = client.expect("", 200).await.lines;
        let (through, plain) = alternate!(
            iterations,
            |i| client.expect(&format!("RETR {}", uids[picks[i] % uids.len()]), 200).await,
            get(&http, &side.hrefs[picks[i]]).await
        );
        row(&format!("RETR {} / GET", side.folder), through, plain);
    }
    println!("{iterations} RETR and {finds} FIND per folder; loopback; one AGAP session, one HTTP client");
}
