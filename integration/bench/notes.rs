//! NOTE folders: FIND of all and RETR of one note in a folder of AGAP_BENCH_NOTES notes (default
//! 5,000, Apple Notes-style messages APPENDed directly), against the same work over IMAP
//! (UID SEARCH ALL, UID FETCH BODY[]).

use futures_util::TryStreamExt;

use crate::harness::{TestGateway, imap};
use crate::{Lcg, env_number, row};

fn note(n: usize) -> Vec<u8> {
    format!(
        "From: user86@example.com\r\nX-Uniform-Type-Identifier: com.apple.mail-note\r\n\
         X-Universally-Unique-Identifier: 00000000-0000-4000-8000-{n:012X}\r\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nX-Mail-Created-Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
         Subject: Note {n}\r\nMime-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><div>Note {n}</div><div>Things to remember, number {n}.</div></body></html>\r\n"
    )
    .into_bytes()
}

pub async fn run() {
    let count = env_number("AGAP_BENCH_NOTES", 5_000);
    let iterations = env_number("AGAP_BENCH_ITERATIONS", 200);
    let user = "user86";
    let gateway = TestGateway::start().await;
    // The first login creates the Notes mailbox.
    let mut client = gateway.login(user).await;
    let mut direct = imap(user).await;
    let fill = std::time::Instant::now();
    for n in 0..count {
        direct.append("Notes", None, None, &note(n)).await.expect("APPEND");
    }
    println!("\nfilled Notes with {count} notes in {:.1} s", fill.elapsed().as_secs_f64());
    direct.select("Notes").await.expect("SELECT");
    client.expect("SLCT /NOTE", 200).await;
    println!("{:<34} {:>13} {:>13} {:>7}", "NOTE operation (median)", "gateway", "direct IMAP", "ratio");
    let finds = (iterations / 10).max(5);
    let through = time!(finds, |_i| assert_eq!(client.filtered("FIND", &[]).await.lines.len(), count));
    let plain = time!(finds, |_i| assert_eq!(direct.uid_search("ALL").await.expect("SEARCH").len(), count));
    row(&format!("FIND all / UID SEARCH ALL ({count})"), through, plain);
    let uids: Vec<usize> = {
        let mut random = Lcg(7);
        (0..iterations).map(|_| random.below(count) + 1).collect()
    };
    let through = time!(iterations, |i| client.expect(&format!("RETR {}", uids[i]), 200).await);
    let plain = time!(iterations, |i| {
        let fetched: Vec<_> = direct
            .uid_fetch(uids[i].to_string(), "BODY.PEEK[]")
            .await
            .expect("FETCH")
            .try_collect()
            .await
            .expect("FETCH");
        assert!(!fetched.is_empty())
    });
    row("RETR note / UID FETCH BODY[]", through, plain);
}
