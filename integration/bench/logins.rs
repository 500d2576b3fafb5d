//! What a login costs (issues 13 and 20). For an empty account and for one whose /CALENDAR and
//! /CONTACT hold AGAP_BENCH_DAV_ITEMS events and contacts (default 5,000 each, written into
//! Radicale's storage as the DAV benchmark does), on the default pair:
//!
//! - PASS through the gateway: the first of a fresh gateway (nothing known of the user), then
//!   the median of AGAP_BENCH_LOGINS more (default 50; the login cache warm), each on a new
//!   connection after AUTH PLAIN and USER; against one direct IMAP LOGIN (connect included, as
//!   the gateway's first PASS connects) plus one CalDAV PROPFIND Depth 0 of the calendar home;
//! - the DAV requests each login sent (counted in the adapter), and those of the first LIST,
//!   which now reads the collections and makes the reserved folders where they are missing;
//! - logins per second of one user with a warm cache: AGAP_BENCH_LOGIN_CLIENTS clients at once
//!   (default 8), AGAP_BENCH_LOGIN_ROUNDS logins in all (default 4,000), each connect, AUTH
//!   PLAIN, USER, PASS, QUIT.

use std::time::{Duration, Instant};

use crate::collections::{contact, event, fill, radicale, root};
use crate::harness::{Client, TestGateway, password};
use crate::{env_number, median};

const EMPTY: &str = "user101";
const FULL: &str = "user102";

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

/// PASS alone, after AUTH PLAIN and USER on a new connection.
async fn timed_pass(gateway: &TestGateway, user: &str) -> Duration {
    let mut client = gateway.client().await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect(&format!("USER {user}"), 200).await;
    let start = Instant::now();
    client.expect(&format!("PASS {}", password(user)), 200).await;
    let took = start.elapsed();
    client.expect("QUIT", 200).await;
    took
}

/// What another client pays to reach the same account: IMAP connect and LOGIN, then PROPFIND
/// Depth 0 of the calendar home (the least a DAV client asks to know its calendars are there).
async fn timed_direct(http: &reqwest::Client, home: &url::Url, user: &str) -> Duration {
    let start = Instant::now();
    let mut imap = crate::harness::imap(user).await;
    propfind(http, home, user, "0", "<D:resourcetype/><D:displayname/>").await;
    let took = start.elapsed();
    imap.logout().await.expect("LOGOUT");
    took
}

/// PROPFIND of `props` at `depth`.
async fn propfind(http: &reqwest::Client, url: &url::Url, user: &str, depth: &str, props: &str) {
    let response = http
        .request(reqwest::Method::from_bytes(b"PROPFIND").expect("method"), url.clone())
        .basic_auth(user, Some(password(user)))
        .header("Depth", depth)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(format!(r#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>{props}</D:prop></D:propfind>"#))
        .send()
        .await
        .expect("PROPFIND");
    assert_eq!(response.status().as_u16(), 207);
    response.bytes().await.expect("body");
}

async fn calendar_home(user: &str) -> url::Url {
    let client = agap_adapter_dav::DavClient::new(&root(), user, &password(user)).expect("client");
    client.discover(&root(), "caldav").await.expect("discover").calendar_home.expect("a calendar home")
}

/// Sets up `user`'s reserved folders through a gateway of its own, and fills them with `items`
/// events and contacts (none for 0).
async fn prepare(user: &str, items: usize) {
    let setup = TestGateway::start_with_dav().await;
    setup.login(user).await.expect("LIST", 200).await;
    if items == 0 {
        return;
    }
    let dav = agap_adapter_dav::DavBackend::new(root());
    let account = agap_adapter_api::collection::CollectionBackend::open(
        &dav,
        &agap_adapter_api::Credentials::new(user, password(user)),
    )
    .await
    .expect("DAV account");
    let collections = account.list_collections().await.expect("collections");
    let marked = |mark: &str| {
        collections.iter().find(|info| info.agap_mark.as_deref() == Some(mark)).cloned().expect("a reserved collection")
    };
    fill(&marked("CALE /CALENDAR").id, "ics", (0..items).map(event).collect());
    fill(&marked("ADDR /CONTACT").id, "vcf", (0..items).map(contact).collect());
    // What any DAV client of the account asks first, so that Radicale reads the files written
    // behind its back into its own cache before anything is measured.
    let home = calendar_home(user).await;
    let http = reqwest::Client::new();
    let start = Instant::now();
    propfind(&http, &home, user, "1", LISTED).await;
    println!("({user}: the server's first listing of the home took {:.1} s)", start.elapsed().as_secs_f64());
}

/// What the gateway asks of each collection when it lists a home.
const LISTED: &str = "<D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/>";

async fn account_row(user: &str, label: &str, logins: usize) {
    let http = reqwest::Client::new();
    let home = calendar_home(user).await;
    // A fresh gateway: the first PASS finds nothing of the user known.
    let gateway = TestGateway::start_with_dav().await;
    let before = agap_adapter_dav::requests_sent();
    let first = timed_pass(&gateway, user).await;
    let first_requests = agap_adapter_dav::requests_sent() - before;
    let before = agap_adapter_dav::requests_sent();
    let mut warm = Vec::with_capacity(logins);
    for _ in 0..logins {
        warm.push(timed_pass(&gateway, user).await);
    }
    let warm_requests = (agap_adapter_dav::requests_sent() - before) as f64 / logins as f64;
    let mut client = gateway.login(user).await;
    client.set_patience(Duration::from_secs(600));
    let before = agap_adapter_dav::requests_sent();
    let start = Instant::now();
    client.expect("LIST", 200).await;
    let (list, list_requests) = (start.elapsed(), agap_adapter_dav::requests_sent() - before);
    let before = agap_adapter_dav::requests_sent();
    let start = Instant::now();
    client.expect("LIST", 200).await;
    let (again, again_requests) = (start.elapsed(), agap_adapter_dav::requests_sent() - before);
    client.expect("QUIT", 200).await;
    let start = Instant::now();
    propfind(&http, &home, user, "1", LISTED).await;
    let home_listing = start.elapsed();
    let mut direct = Vec::with_capacity(logins);
    for _ in 0..logins {
        direct.push(timed_direct(&http, &home, user).await);
    }
    let (warm, direct) = (median(warm), median(direct));
    println!("{label}");
    println!("  {:<44} {:>9.2} ms   DAV requests {first_requests}", "first PASS of a fresh gateway", ms(first));
    println!(
        "  {:<44} {:>9.2} ms   DAV requests {warm_requests:.2} per login",
        format!("PASS, median of {logins} more"),
        ms(warm)
    );
    println!("  {:<44} {:>9.2} ms", "direct IMAP LOGIN + PROPFIND Depth 0 (median)", ms(direct));
    println!("  {:<44} {:>9.2}", "ratio PASS / direct", warm.as_secs_f64() / direct.as_secs_f64());
    println!("  {:<44} {:>9.2}", "ratio first PASS / direct", first.as_secs_f64() / direct.as_secs_f64());
    println!(
        "  {:<44} {:>9.2} ms   DAV requests {list_requests}",
        "first LIST (lists, sets up reserved folders)",
        ms(list)
    );
    println!(
        "  {:<44} {:>9.2} ms   DAV requests {again_requests}",
        "next LIST (collections listed a moment ago)",
        ms(again)
    );
    println!("  {:<44} {:>9.2} ms", "direct PROPFIND Depth 1 of the home", ms(home_listing));
}

/// Logins per second of one user, `clients` at once.
async fn login_rate(clients: usize, rounds: usize) {
    let gateway = TestGateway::start_with_dav().await;
    gateway.login(EMPTY).await.expect("LIST", 200).await;
    let address = gateway.address();
    let before = agap_adapter_dav::requests_sent();
    let start = Instant::now();
    let per_client = rounds.div_ceil(clients);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..per_client {
                    let (mut client, welcome) = Client::connect(address).await;
                    assert!(welcome.starts_with("200 "), "{welcome}");
                    client.login(EMPTY).await;
                    client.expect("QUIT", 200).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
    let elapsed = start.elapsed();
    let total = per_client * clients;
    println!(
        "{total} logins of {EMPTY} by {clients} clients at once (connect, AUTH PLAIN, USER, PASS, QUIT): {:.0} logins/s, {} DAV requests",
        total as f64 / elapsed.as_secs_f64(),
        agap_adapter_dav::requests_sent() - before
    );
}

pub async fn run() {
    let logins = env_number("AGAP_BENCH_LOGINS", 50).max(2);
    let items = env_number("AGAP_BENCH_DAV_ITEMS", 5_000);
    radicale(); // the DAV server must be the pair's Radicale (fill writes into its storage)
    println!("\nlogins: PASS through the gateway against IMAP LOGIN + CalDAV PROPFIND Depth 0 directly");
    prepare(EMPTY, 0).await;
    let start = Instant::now();
    prepare(FULL, items).await;
    println!("({FULL} filled with {items} events and {items} contacts in {:.1} s)", start.elapsed().as_secs_f64());
    account_row(EMPTY, &format!("{EMPTY}: empty calendars and address book"), logins).await;
    account_row(FULL, &format!("{FULL}: {items} events and {items} contacts"), logins).await;
    let clients = env_number("AGAP_BENCH_LOGIN_CLIENTS", 8).max(1);
    let rounds = env_number("AGAP_BENCH_LOGIN_ROUNDS", 4_000).max(clients);
    login_rate(clients, rounds).await;
}
