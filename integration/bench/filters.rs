//! The filter part of the benchmark: FIND by tag, by exact subject and by regex over 10,000 and
//! 100,000 messages (AGAP_BENCH_FILTER_SIZES), against the equivalent direct IMAP work, with
//! the gateway as a process of its own so that its peak resident memory can be read.

use std::time::Instant;

use futures_util::TryStreamExt;

use crate::harness::{self, Client, imap};
use crate::process::GatewayProcess;
use crate::{median, row};

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(value) => value.split(',').filter_map(|v| v.trim().parse().ok()).collect(),
        Err(_) => default.to_vec(),
    }
}

/// Appends `count` small synthetic messages with MULTIAPPEND (RFC 3502) and non-synchronizing
/// literals (RFC 7888), 1,000 per command: one APPEND at a time would dominate the run. Every
/// 100th message is $Junk.
async fn fill_synthetic(port: u16, user: &str, mailbox: &str, count: usize) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    async fn tagged(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, tag: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).await.expect("read");
            if line.starts_with(&format!("{tag} ")) {
                assert!(line.starts_with(&format!("{tag} OK")), "{line}");
                return;
            }
        }
    }
    let mut greeting = String::new();
    reader.read_line(&mut greeting).await.expect("greeting");
    writer.write_all(format!("a LOGIN {user} {}\r\n", harness::password(user)).as_bytes()).await.expect("login");
    tagged(&mut reader, "a").await;
    writer.write_all(format!("b CREATE {mailbox}\r\n").as_bytes()).await.expect("create");
    tagged(&mut reader, "b").await;
    for (batch, start) in (0..count).step_by(1000).enumerate() {
        let mut command = format!("c{batch} APPEND {mailbox}").into_bytes();
        for n in start..(start + 1000).min(count) {
            let body = format!(
                "From: sender{}@example.com\r\nTo: {user}@example.com\r\nSubject: Subject {n}\r\n\
                 Date: Mon, 6 Jun 2005 22:21:22 +0200\r\n\r\nBody of message {n}.\r\n",
                n % 97
            );
            let flags = if n % 100 == 0 { "($Junk)" } else { "()" };
            command.extend_from_slice(format!(" {flags} {{{}+}}\r\n", body.len()).as_bytes());
            command.extend_from_slice(body.as_bytes());
        }
        command.extend_from_slice(b"\r\n");
        writer.write_all(&command).await.expect("append");
        tagged(&mut reader, &format!("c{batch}")).await;
    }
}

async fn find(client: &mut Client, rule: &str) -> usize {
    client.expect("FIND", 110).await;
    client.send(rule).await;
    client.expect("", 200).await.lines.len()
}

const TAG_PAIRS_PER_ROUND: usize = 9;

async fn run_size(size: usize) {
    let user = "user30";
    let mailbox = format!("Filter{size}");
    let fill = Instant::now();
    fill_synthetic(harness::mail_server().port, user, &mailbox, size).await;
    println!("\nfilled {mailbox} with {size} synthetic messages in {:.1} s", fill.elapsed().as_secs_f64());
    let gateway = GatewayProcess::start("");
    let (mut client, _) = Client::connect(gateway.address).await;
    client.login(user).await;
    client.expect(&format!("SLCT /{mailbox}"), 200).await;
    let mut direct = imap(user).await;
    direct.select(&mailbox).await.expect("SELECT");
    let runs = if size > 50_000 { 5 } else { 11 };
    let subject = format!("Subject {}", size / 2 + 7);
    let pattern = regex::Regex::new("^Subject 4[0-9]*7$").expect("regex");
    let expected = (0..size).filter(|n| pattern.is_match(&format!("Subject {n}"))).count();
    let junk = size.div_ceil(100);

    println!(
        "{:<40} {:>13} {:>13} {:>7}",
        format!("filter over {size} (median of {runs}; tag {})", runs * TAG_PAIRS_PER_ROUND),
        "gateway",
        "direct IMAP",
        "ratio"
    );
    let rule = format!("IS /MESSAGE/HEADER/subject = '{subject}'");
    let search = format!("HEADER SUBJECT \"{subject}\"");
    let regex_rule = "REGEX /MESSAGE/HEADER/subject = '^Subject 4[0-9]*7$'";
    let mut samples: [Vec<std::time::Duration>; 6] = Default::default();
    // One untimed round first (the server's caches fill on first use), then the two sides
    // alternate, so that neither meets a colder server than the other.
    for round in 0..=runs {
        let mut took = Vec::with_capacity(4);
        // The tag search takes a millisecond or two, where scheduler noise alone moves a single
        // sample by half that: take several alternating pairs per round for a stable median.
        for _ in 0..TAG_PAIRS_PER_ROUND {
            let started = Instant::now();
            assert_eq!(find(&mut client, "TAG SPAM").await, junk);
            let gateway_took = started.elapsed();
            let started = Instant::now();
            assert_eq!(direct.uid_search("KEYWORD $Junk").await.expect("SEARCH").len(), junk);
            if round > 0 {
                samples[0].push(gateway_took);
                samples[1].push(started.elapsed());
            }
        }
        let started = Instant::now();
        assert_eq!(find(&mut client, &rule).await, 1);
        took.push(started.elapsed());
        let started = Instant::now();
        assert!(!direct.uid_search(&search).await.expect("SEARCH").is_empty());
        took.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(find(&mut client, regex_rule).await, expected);
        took.push(started.elapsed());
        let started = Instant::now();
        let fetched: Vec<_> = direct
            .uid_fetch("1:*", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
            .await
            .expect("FETCH")
            .try_collect()
            .await
            .expect("FETCH");
        let matching = fetched
            .iter()
            .filter_map(|f| f.header())
            .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches("Subject:").trim().to_owned())
            .filter(|s| pattern.is_match(s))
            .count();
        assert_eq!(matching, expected);
        took.push(started.elapsed());
        if round > 0 {
            for (samples, value) in samples.iter_mut().skip(2).zip(took) {
                samples.push(value);
            }
        }
    }
    let [gateway_tag, direct_tag, gateway_is, direct_is, gateway_regex, direct_regex] = samples.map(median);
    row("FIND TAG SPAM / SEARCH KEYWORD", gateway_tag, direct_tag);
    row("FIND IS subject / SEARCH HEADER", gateway_is, direct_is);
    row("FIND REGEX subject / FETCH + regex", gateway_regex, direct_regex);
    println!("gateway peak resident memory (VmHWM) after the {size}-message runs: {:.1} MiB", gateway.peak_rss_mib());
}

/// Runs the filter benchmark for every configured size.
pub async fn run() {
    for size in env_list("AGAP_BENCH_FILTER_SIZES", &[10_000, 100_000]) {
        run_size(size).await;
    }
}
