//! Many sessions on one gateway process (`AGAP_BENCH_ONLY=sessions`): AGAP_BENCH_SESSIONS
//! (default 10,000) idle sessions logged in and holding INBOX, and the gateway's resident memory
//! per session; then AGAP_BENCH_BUSY (default 1,000) of them sending a RETR and a FIND at once,
//! every reply checked, with the gateway's CPU time per command. The limits are raised in this
//! gateway's configuration only (the defaults stay 1,000 connections, 100 per address); the
//! process running the benchmark needs that many file descriptors (`ulimit -n`).

use std::time::{Duration, Instant};

use crate::env_number;
use crate::harness::{Client, imap};
use crate::process::GatewayProcess;

const USER: &str = "user103";

/// Connections opened at once while the sessions are made.
const BATCH: usize = 250;

async fn logged_in(address: std::net::SocketAddr) -> Client {
    let (mut client, welcome) = Client::connect(address).await;
    assert!(welcome.starts_with("200 "), "{welcome}");
    client.set_patience(Duration::from_secs(300));
    client.login(USER).await;
    client
}

pub async fn run() {
    let sessions = env_number("AGAP_BENCH_SESSIONS", 10_000).max(1);
    let busy = env_number("AGAP_BENCH_BUSY", 1_000).min(sessions);
    let mut direct = imap(USER).await;
    direct
        .append("INBOX", None, None, b"From: a@example.com\r\nSubject: held\r\n\r\nA message to read.\r\n")
        .await
        .expect("APPEND");
    let limit = (sessions + 100).to_string();
    let gateway = GatewayProcess::start_with_environment(
        "[limits]\nmax_connections_per_address = 1000000\n",
        &[("AGAP_SERVER__MAX_CONNECTIONS", &limit), ("AGAP_SERVER__IDLE_TIMEOUT_SECS", "3600")],
    );
    // The first login proves the password upstream; the others find it proven.
    logged_in(gateway.address).await.expect("QUIT", 200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = gateway.rss_mib();
    let start = Instant::now();
    let mut clients: Vec<Client> = Vec::with_capacity(sessions);
    while clients.len() < sessions {
        let batch = BATCH.min(sessions - clients.len());
        let address = gateway.address;
        let opened: Vec<_> = (0..batch).map(|_| tokio::spawn(logged_in(address))).collect();
        for task in opened {
            clients.push(task.await.expect("a session"));
        }
    }
    let made = start.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = (gateway.rss_mib() - before).max(0.0);
    println!("\nsessions: {sessions} logged in (INBOX selected) in {:.1} s", made.as_secs_f64());
    println!(
        "resident memory of the gateway: {held:.1} MiB more than with none, {:.1} KB per idle session",
        held * 1024.0 / sessions as f64
    );

    let cpu_before = gateway.cpu_seconds();
    let start = Instant::now();
    let working: Vec<Client> = clients.drain(..busy).collect();
    let tasks: Vec<_> = working
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                client.send("FIND").await;
                let asked = client.read_reply().await;
                client.send("").await;
                let found = client.read_reply().await;
                let uid = found.lines.last().cloned().unwrap_or_default();
                let read = client.command(&format!("RETR {uid}")).await;
                (asked.code == 110 && found.code == 200 && read.code == 200, client)
            })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        let (ok, client) = task.await.expect("a busy session");
        failed += usize::from(!ok);
        clients.push(client);
    }
    let elapsed = start.elapsed();
    let cpu = gateway.cpu_seconds() - cpu_before;
    let commands = busy * 2;
    println!(
        "{busy} sessions at once, FIND then RETR each: {:.2} s, {failed} failed, gateway CPU {:.0} µs per command ({commands} commands)",
        elapsed.as_secs_f64(),
        cpu * 1e6 / commands as f64
    );
    drop(clients);
}
