//! The memory part of the benchmark: what a connection costs while it RETRs one large message
//! (AGAP_BENCH_LARGE_MIB of attachment, default 16), read at full speed and by clients that
//! stop reading, measured on the gateway as a process of its own (VmRSS, VmHWM); and the time
//! of that RETR against fetching the message directly. Then the hostile inputs of issue 12:
//! what a STOR of 20 MiB of one-character lines, a STOR of 20 MiB of `<a/>` and a FIND at the
//! filter size limit with the heaviest regular expressions raise the gateway's memory by, each
//! on a fresh gateway process, against the item limit.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::TryStreamExt;

use crate::harness::{Client, imap};
use crate::process::GatewayProcess;
use crate::{env_number, row};

const USER: &str = "user62";
/// Clients that send RETR and then read nothing.
const STALLED: usize = 4;

/// A message with a short text part and a binary attachment of `mib` MiB.
fn large_message(mib: usize) -> Vec<u8> {
    let attachment: Vec<u8> = (0..mib << 20).map(|i| (i * 7 % 251) as u8).collect();
    let encoded = STANDARD.encode(&attachment);
    let mut message = String::from(
        "From: a@example.com\r\nTo: user62@example.com\r\nSubject: large\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n\
         --b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in encoded.as_bytes().chunks(76) {
        message.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        message.push_str("\r\n");
    }
    message.push_str("--b--\r\n");
    message.into_bytes()
}

async fn logged_in(gateway: &GatewayProcess) -> Client {
    let (mut client, _) = Client::connect(gateway.address).await;
    client.set_patience(Duration::from_secs(120));
    client.login(USER).await;
    client.expect("SLCT /INBOX", 200).await;
    client
}

pub async fn run() {
    let mib = env_number("AGAP_BENCH_LARGE_MIB", 16);
    let iterations = env_number("AGAP_BENCH_LARGE_ITERATIONS", 5);
    let message = large_message(mib);
    let size_mib = message.len() as f64 / f64::from(1 << 20);
    let mut direct = imap(USER).await;
    direct.select("INBOX").await.expect("SELECT");
    let _: Vec<_> =
        direct.uid_store("1:*", "+FLAGS (\\Deleted)").await.expect("STORE").try_collect().await.expect("STORE");
    let _: Vec<_> = direct.expunge().await.expect("EXPUNGE").try_collect().await.expect("EXPUNGE");
    direct.append("INBOX", None, None, &message).await.expect("APPEND");
    direct.select("INBOX").await.expect("SELECT");
    let uid = direct.uid_search("ALL").await.expect("SEARCH").into_iter().max().expect("the message");
    println!("\nmemory: one message of {size_mib:.1} MiB ({mib} MiB attachment) in {USER}'s INBOX");
    let threshold =
        std::env::var("MALLOC_MMAP_THRESHOLD_").unwrap_or_else(|_| "unset (glibc's sliding default)".into());
    println!("the gateway runs with MALLOC_MMAP_THRESHOLD_ {threshold} (README, Deployment notes)");

    // Clients that stop reading: what each one holds in the gateway.
    let gateway = GatewayProcess::start("");
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(logged_in(&gateway).await);
    }
    let before = gateway.rss_mib();
    for client in &mut stalled {
        client.send(&format!("RETR {uid}")).await;
    }
    // Long enough for every RETR to be fetched, rendered and written up to the full socket.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let held = (gateway.rss_mib() - before).max(0.0) / STALLED as f64;
    for client in &mut stalled {
        let reply = client.read_reply().await;
        assert_eq!(reply.code, 200, "{}", reply.text);
    }
    println!(
        "{STALLED} clients that read nothing after RETR: {held:.1} MiB held per connection ({:.2} x the message)",
        held / size_mib
    );
    drop(gateway);

    // Full speed, against fetching the message directly.
    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    let before = gateway.rss_mib();
    let through = time!(iterations, |_i| {
        client.send(&format!("RETR {uid}")).await;
        let (code, data) = client.skip_reply().await;
        assert_eq!(code, 200);
        assert!(data > message.len(), "the whole message came ({data} bytes)");
    });
    let peak = (gateway.peak_rss_mib() - before).max(0.0);
    let plain = time!(iterations, |_i| {
        let fetched: Vec<_> =
            direct.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.expect("FETCH").try_collect().await.expect("FETCH");
        assert_eq!(fetched[0].body().map(<[u8]>::len), Some(message.len()));
    });
    println!("\n{:<34} {:>13} {:>13} {:>7}", "operation (median)", "gateway", "direct IMAP", "ratio");
    row(&format!("RETR {size_mib:.0} MiB / FETCH BODY[]"), through, plain);
    println!(
        "peak growth of the gateway over {iterations} RETRs at full speed: {peak:.1} MiB ({:.2} x the message)",
        peak / size_mib
    );
    drop(gateway);
    drop(direct);
    hostile().await;
}

/// The default item limit, which these measurements run with.
const MAX_ITEM_SIZE_MIB: f64 = 25.0;

/// Sends `command`, then `content` as raw bytes (it ends with its empty line), and returns the
/// reply code and text with the rise of the gateway's peak resident memory over `before`.
async fn with_content(
    gateway: &GatewayProcess,
    client: &mut Client,
    command: &str,
    content: &[u8],
) -> (u16, String, f64) {
    let before = gateway.rss_mib();
    client.expect(command, 110).await;
    for chunk in content.chunks(1 << 20) {
        client.send_raw(chunk).await;
    }
    let reply = client.read_reply().await;
    (reply.code, reply.text, (gateway.peak_rss_mib() - before).max(0.0))
}

fn hostile_row(what: &str, code: u16, text: &str, rise: f64) {
    let reply = format!("{code} {}", text.chars().take(60).collect::<String>());
    println!("{what:<52} {rise:>8.1} MiB {:>6.2} x  {reply}", rise / MAX_ITEM_SIZE_MIB);
}

/// The largest number of copies of `rule` one filter may hold (the gateway's own parser says).
fn most_that_compile(rule: &str) -> usize {
    let fits = |n: usize| agap_gateway::filter::parse_filter(std::iter::repeat_n(rule, n), "MESSAGE").is_ok();
    let (mut low, mut high) = (1, agap_gateway::filter::MAX_RULES);
    if fits(high) {
        return high;
    }
    while high - low > 1 {
        let middle = (low + high) / 2;
        if fits(middle) { low = middle } else { high = middle }
    }
    low
}

/// Issue 12's memory attacks, each on a fresh gateway process with the default limits
/// (25 MiB items, 256 KiB filters).
async fn hostile() {
    let mut direct = imap(USER).await;
    let message = format!("From: a@example.com\r\nX: {}\r\nSubject: x\r\n\r\nbody\r\n", "a".repeat(6000));
    direct.append("INBOX", None, None, message.as_bytes()).await.expect("APPEND");
    println!("\nhostile input (issue 12): rise of the gateway's peak resident memory, and its ratio to max_item_size");
    println!("{:<52} {:>12} {:>8}  reply", "attack", "rise", "ratio");

    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    let mut content = b"<MESSAGE>\n<HEADER><Subject>lines</Subject></HEADER>\n<TEXT>\n".to_vec();
    content.extend(b"x\n".repeat(10 << 20));
    content.extend(b"</TEXT>\n</MESSAGE>\n\n");
    let (code, text, rise) = with_content(&gateway, &mut client, "STOR", &content).await;
    hostile_row("STOR 20 MiB of one-character lines (stored)", code, &text, rise);
    drop(gateway);

    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    let mut content = b"<MESSAGE>\n<TEXT>\n".to_vec();
    for _ in 0..(20 << 20) / 1024 {
        content.extend(b"<a/>".repeat(255));
        content.push(b'\n');
    }
    content.extend(b"</TEXT>\n</MESSAGE>\n\n");
    let (code, text, rise) = with_content(&gateway, &mut client, "STOR", &content).await;
    hostile_row("STOR 20 MiB of <a/>", code, &text, rise);
    drop(gateway);

    // The heaviest expressions that compile: as many copies of a large one as the budget
    // takes, then blank lines up to the filter size limit (256 lines of 1,023 characters).
    let rule = "REGEX header/x = '(a{100}){20}'";
    let copies = most_that_compile(rule);
    let mut filter = format!("{rule}\n").repeat(copies);
    let pad = " ".repeat(1000) + "\n";
    while filter.len() + pad.len() < 256 * 1024 - 1024 {
        filter.push_str(&pad);
    }
    filter.push('\n');
    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    let (code, text, rise) = with_content(&gateway, &mut client, "FIND", filter.as_bytes()).await;
    hostile_row(&format!("FIND of {} KiB: {copies} x '(a{{100}}){{20}}'", filter.len() >> 10), code, &text, rise);
    drop(gateway);

    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    let attack = "REGEX header/x = '(a{100}){60}'\n".repeat(1000) + "\n";
    let (code, text, rise) = with_content(&gateway, &mut client, "FIND", attack.as_bytes()).await;
    hostile_row("FIND of 1,000 x '(a{100}){60}' (refused)", code, &text, rise);
    drop(gateway);

    // A body filter over a folder holding one 100 MiB message (and a small one): the large one
    // is read only up to the item limit (a partial FETCH) and skipped.
    let mut direct = imap(USER).await;
    let _ = direct.create("Huge").await;
    let mut huge = b"From: a@example.com\r\nSubject: huge\r\n\r\n".to_vec();
    let line = b"hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay hay\r\n";
    while huge.len() < 100 << 20 {
        huge.extend_from_slice(line);
    }
    huge.extend_from_slice(b"needle\r\n");
    direct.append("Huge", None, None, &huge).await.expect("APPEND");
    drop(huge);
    direct.append("Huge", None, None, b"Subject: small\r\n\r\nneedle\r\n".as_slice()).await.expect("APPEND");
    let gateway = GatewayProcess::start("");
    let mut client = logged_in(&gateway).await;
    client.expect("SLCT /Huge", 200).await;
    let (code, text, rise) = with_content(&gateway, &mut client, "FIND", b"REGEX /MESSAGE/TEXT = 'needle'\n\n").await;
    hostile_row("FIND REGEX body over a 100 MiB message", code, &text, rise);
    drop(gateway);
    let _ = direct.delete("Huge").await;
}
