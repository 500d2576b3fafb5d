//! Files: the gateway against talking to the WebDAV file server (Apache mod_dav) directly.
//!
//! /FILESHARE/bench of one account is filled with AGAP_BENCH_FILES files (default 1,000, a few
//! hundred bytes to a few KiB each) by another WebDAV client (PUT). Then FIND with the empty
//! filter (every file) against the PROPFIND Depth 1 a WebDAV client sends to list the directory,
//! and RETR of a random file against a GET of it. The first FIND, which builds the UID map, is
//! reported apart. Medians and ratios are printed.

use crate::harness::{Client, TestGateway, files_home, password, with_files};
use crate::{Lcg, env_number, row};

const USER: &str = "user89";

fn body(n: usize) -> Vec<u8> {
    format!("file {n} of the benchmark\n").repeat(16 + n % 200).into_bytes()
}

async fn request(http: &reqwest::Client, method: &str, path: &str, body: Option<Vec<u8>>) -> reqwest::Response {
    let mut request = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            files_home(USER).join(path).expect("url"),
        )
        .basic_auth(USER, Some(password(USER)));
    if method == "PROPFIND" {
        request = request.header("Depth", "1");
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request");
    assert!(response.status().is_success(), "{method} {path}: {}", response.status());
    response
}

async fn find_all(client: &mut Client, expected: usize) -> Vec<String> {
    client.expect("FIND", 110).await;
    let found = client.expect("", 200).await.lines;
    assert_eq!(found.len(), expected);
    found
}

/// Runs the benchmark.
pub async fn run() {
    let count = env_number("AGAP_BENCH_FILES", 1_000);
    let iterations = env_number("AGAP_BENCH_ITERATIONS", 200);
    let finds = (iterations / 10).max(5);
    println!("\nfiles: {count} files in one directory of Apache mod_dav");

    let http = reqwest::Client::new();
    let start = std::time::Instant::now();
    request(&http, "MKCOL", "bench/", None).await;
    for n in 0..count {
        request(&http, "PUT", &format!("bench/file-{n:05}.txt"), Some(body(n))).await;
    }
    println!("filled in {:.1} s", start.elapsed().as_secs_f64());

    let gateway = TestGateway::start_with(with_files).await;
    let mut client = gateway.login(USER).await;
    client.expect("SLCT /FILESHARE/bench", 200).await;
    println!("\n{:<34} {:>13} {:>13} {:>7}", "operation (median)", "gateway", "direct DAV", "ratio");
    let cold = std::time::Instant::now();
    let uids = find_all(&mut client, count).await;
    println!("first FIND of /FILESHARE/bench (builds the UID map): {:.2} s", cold.elapsed().as_secs_f64());
    let (through, plain) = alternate!(finds, |_i| find_all(&mut client, count).await, {
        let listing = request(&http, "PROPFIND", "bench/", None).await.text().await.expect("body");
        assert_eq!(listing.matches("<D:href>").count(), count + 1);
    });
    row("FIND empty / PROPFIND Depth 1", through, plain);

    // UIDs follow the href order of the first listing, as the file names do.
    let mut random = Lcg(11);
    let picks: Vec<usize> = (0..iterations).map(|_| random.below(count)).collect();
    let (through, plain) = alternate!(iterations, |i| client.expect(&format!("RETR {}", uids[picks[i]]), 200).await, {
        let bytes = request(&http, "GET", &format!("bench/file-{:05}.txt", picks[i]), None).await.bytes().await;
        assert_eq!(bytes.expect("body").len(), body(picks[i]).len());
    });
    row("RETR / GET", through, plain);
    println!("{iterations} RETR and {finds} FIND; loopback; one AGAP session, one HTTP client");
}
