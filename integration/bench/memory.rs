//! The memory part of the benchmark: what a connection costs while it RETRs one large message
//! (AGAP_BENCH_LARGE_MIB of attachment, default 16), read at full speed and by clients that
//! stop reading, measured on the gateway as a process of its own (VmRSS, VmHWM); and the time
//! of that RETR against fetching the message directly.

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
}
