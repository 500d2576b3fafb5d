//! `cargo bench --bench gateway`: the gateway against talking to Dovecot (and Radicale: see
//! collections.rs; and the file server: see files.rs) directly, in one run,
//! on one machine (a private Dovecot on loopback, as in the tests; AGAP_TEST_BACKENDS selects
//! another IMAP server as it does for the tests, see harness.rs).
//!
//! A folder is filled with AGAP_BENCH_MESSAGES messages (default 10,000) taken round-robin from
//! integration/corpus/mail (those under 64 KB), then each operation runs AGAP_BENCH_ITERATIONS
//! times (default 200; FIND a tenth of that) through an AGAP session and through a plain IMAP
//! session, on random UIDs from a fixed seed, the two sides alternating. Printed: the median of
//! each side and their ratio.

#[path = "../tests/harness.rs"]
#[allow(dead_code)]
mod harness;

/// The median duration of `$body`, run `$iterations` times with `$i` counting.
macro_rules! time {
    ($iterations:expr, |$i:ident| $body:expr) => {{
        let mut samples = Vec::with_capacity($iterations);
        for $i in 0..$iterations {
            let start = std::time::Instant::now();
            $body;
            samples.push(start.elapsed());
        }
        crate::median(samples)
    }};
}

/// The medians of `$gateway` and `$direct`, each run `$iterations` times with `$i` counting,
/// alternating (one of each, after one warm-up round of each), so that whatever else the
/// machine does weighs on both sides alike.
macro_rules! alternate {
    ($iterations:expr, |$i:ident| $gateway:expr, $direct:expr) => {{
        let mut through = Vec::with_capacity($iterations);
        let mut plain = Vec::with_capacity($iterations);
        {
            let $i = 0;
            $gateway;
            $direct;
        }
        for $i in 0..$iterations {
            let start = std::time::Instant::now();
            $gateway;
            through.push(start.elapsed());
            let start = std::time::Instant::now();
            $direct;
            plain.push(start.elapsed());
        }
        (crate::median(through), crate::median(plain))
    }};
}

mod collections;
mod files;
mod filters;
mod logins;
mod memory;
mod notes;
mod process;
mod sessions;

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use harness::{Client, ImapSession, TestGateway, imap};

pub(crate) fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn corpus_messages() -> Vec<Vec<u8>> {
    harness::corpus_files("mail")
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .filter(|m| m.len() < 64 * 1024 && !m.contains(&0))
        .collect()
}

/// A small deterministic generator, so that both sides see the same UIDs.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

pub(crate) fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn fetch(session: &mut ImapSession, uid: usize, item: &str) {
    let fetched: Vec<_> =
        session.uid_fetch(uid.to_string(), item).await.expect("FETCH").try_collect().await.expect("FETCH");
    assert!(!fetched.is_empty());
}

pub(crate) fn row(name: &str, gateway: Duration, direct: Duration) {
    let ratio = gateway.as_secs_f64() / direct.as_secs_f64().max(1e-9);
    println!(
        "{name:<34} {:>10.1} µs {:>10.1} µs {ratio:>7.2}",
        gateway.as_secs_f64() * 1e6,
        direct.as_secs_f64() * 1e6
    );
}

const STORED: &str = "<MESSAGE>\n<HEADER>\n<From>Bench &lt;bench@example.com&gt;</From>\n<To>user36@example.com</To>\n\
    <Subject>Benchmark message</Subject>\n<Date>Mon, 6 Jun 2005 22:21:22 +0200</Date>\n<Message-ID>&lt;bench@example.com&gt;</Message-ID>\n</HEADER>\n\
    <TEXT>Hello,&#10;\nthis is a benchmark message of a few lines.&#10;\nRegards</TEXT>\n</MESSAGE>";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run());
}

/// Which parts run: AGAP_BENCH_ONLY lists some of `mail`, `notes`, `filters`, `dav`, `files`,
/// `logins`, `memory`, `sessions` (default: all).
fn wanted(part: &str) -> bool {
    std::env::var("AGAP_BENCH_ONLY").map_or(true, |only| only.split(',').any(|p| p.trim() == part))
}

async fn run() {
    if wanted("mail") {
        run_mail().await;
    }
    if wanted("notes") {
        notes::run().await;
    }
    if wanted("filters") {
        filters::run().await;
    }
    if wanted("dav") {
        collections::run().await;
    }
    if wanted("files") {
        files::run().await;
    }
    if wanted("logins") {
        logins::run().await;
    }
    if wanted("memory") {
        memory::run().await;
    }
    if wanted("sessions") {
        sessions::run().await;
    }
}

async fn run_mail() {
    let count = env_number("AGAP_BENCH_MESSAGES", 10_000);
    let iterations = env_number("AGAP_BENCH_ITERATIONS", 200);
    let user = "user36";
    let corpus = corpus_messages();

    let mut direct = imap(user).await;
    direct.create("Bench").await.expect("CREATE Bench");
    direct.create("BenchStore").await.expect("CREATE BenchStore");
    let fill = Instant::now();
    for index in 0..count {
        direct.append("Bench", None, None, &corpus[index % corpus.len()]).await.expect("APPEND");
    }
    println!(
        "filled Bench with {count} messages ({} distinct corpus messages) in {:.1} s",
        corpus.len(),
        fill.elapsed().as_secs_f64()
    );
    direct.select("Bench").await.expect("SELECT");

    let gateway = TestGateway::start().await;
    let mut client: Client = gateway.login(user).await;
    client.expect("SLCT /Bench", 200).await;

    println!("\n{:<34} {:>13} {:>13} {:>7}", "operation (median)", "gateway", "direct IMAP", "ratio");
    let uids: Vec<usize> = {
        let mut random = Lcg(42);
        (0..iterations).map(|_| random.below(count) + 1).collect()
    };

    let (through, plain) = alternate!(
        iterations,
        |i| client.expect(&format!("RETR {}", uids[i]), 200).await,
        fetch(&mut direct, uids[i], "BODY.PEEK[]").await
    );
    row("RETR whole / UID FETCH BODY[]", through, plain);

    // Some corpus messages have no Subject: 511 then, which costs the same round trips.
    let (through, plain) = alternate!(
        iterations,
        |i| client.command(&format!("RETR {} /MESSAGE/HEADER/subject", uids[i])).await,
        fetch(&mut direct, uids[i], "BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await
    );
    row("RETR subject / HEADER.FIELDS", through, plain);

    let (through, plain) =
        alternate!(iterations, |i| client.expect(&format!("STAG {} + FLAG=Red", uids[i]), 200).await, {
            let stored: Vec<_> = direct
                .uid_store(uids[i].to_string(), "+FLAGS (FLAG=^red)")
                .await
                .expect("STORE")
                .try_collect()
                .await
                .expect("STORE");
            drop(stored)
        });
    row("STAG / UID STORE", through, plain);

    // Every tenth message seen, by both sides' own means, so that both find the same ones.
    for uid in (1..=count).step_by(10) {
        client.expect(&format!("STAG {uid} + SEEN"), 200).await;
    }
    let seen = count.div_ceil(10);
    let finds = (iterations / 10).max(5);
    let (through, plain) = alternate!(
        finds,
        |_i| {
            client.expect("FIND", 110).await;
            assert_eq!(client.expect("", 200).await.lines.len(), count)
        },
        assert_eq!(direct.uid_search("ALL").await.expect("SEARCH").len(), count)
    );
    row(&format!("FIND empty / UID SEARCH ALL ({count})"), through, plain);
    let (through, plain) = alternate!(
        finds,
        |_i| {
            client.expect("FIND", 110).await;
            client.send("TAG SEEN").await;
            assert_eq!(client.expect("", 200).await.lines.len(), seen)
        },
        assert_eq!(direct.uid_search("SEEN").await.expect("SEARCH").len(), seen)
    );
    row(&format!("FIND TAG SEEN / UID SEARCH SEEN ({seen})"), through, plain);

    client.expect("SLCT /BenchStore", 200).await;
    let stored_lines: Vec<String> = STORED.lines().map(str::to_owned).collect();
    client.expect("STOR", 110).await;
    for line in &stored_lines {
        client.send(line).await;
    }
    client.expect("", 200).await;
    // The direct side APPENDs exactly the message the gateway composed.
    let raw = {
        let mut session = imap(user).await;
        session.select("BenchStore").await.expect("SELECT");
        let fetched: Vec<_> =
            session.uid_fetch("1", "BODY.PEEK[]").await.expect("FETCH").try_collect().await.expect("FETCH");
        fetched[0].body().expect("body").to_vec()
    };
    let (through, plain) = alternate!(
        iterations,
        |_i| {
            client.expect("STOR", 110).await;
            for line in &stored_lines {
                client.send(line).await;
            }
            client.expect("", 200).await
        },
        direct.append("BenchStore", None, None, &raw).await.expect("APPEND")
    );
    row("STOR / APPEND (same message)", through, plain);
    println!(
        "\n{iterations} iterations per operation ({finds} for FIND); loopback; one AGAP session, one IMAP session"
    );
}
