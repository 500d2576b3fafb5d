//! Logins in a row (issue 13): the first login of an account sets up its reserved folders,
//! creating /CALENDAR, /TASK, /JOURNAL and /CONTACT on the DAV server; every later one must find
//! them instead, and so take no longer. AGAP_BENCH_LOGINS logins (default 20) of one account,
//! each a new connection through AUTH PLAIN, USER and PASS, on whatever pair
//! AGAP_TEST_BACKENDS selects. Printed: the first, second and last login time, the median of all
//! but the first, and the ratio of the last to the first.

use std::time::{Duration, Instant};

use crate::harness::TestGateway;
use crate::{env_number, median};

const USER: &str = "user65";

pub async fn run() {
    let logins = env_number("AGAP_BENCH_LOGINS", 20).max(2);
    let gateway = TestGateway::start_with_dav().await;
    let mut times: Vec<Duration> = Vec::with_capacity(logins);
    for _ in 0..logins {
        let start = Instant::now();
        let mut client = gateway.login(USER).await;
        times.push(start.elapsed());
        client.expect("QUIT", 200).await;
    }
    let (first, last) = (times[0], times[logins - 1]);
    let ms = |time: Duration| time.as_secs_f64() * 1e3;
    println!("\n{logins} logins in a row of {USER} (connect, AUTH PLAIN, USER, PASS; reserved folders set up at PASS)");
    println!("{:<34} {:>10.1} ms", "login 1 (sets up the account)", ms(first));
    println!("{:<34} {:>10.1} ms", "login 2", ms(times[1]));
    println!("{:<34} {:>10.1} ms", format!("login {logins}"), ms(last));
    println!("{:<34} {:>10.1} ms", format!("median of logins 2..{logins}"), ms(median(times[1..].to_vec())));
    println!("{:<34} {:>10.2}", format!("ratio login {logins} / login 1"), last.as_secs_f64() / first.as_secs_f64());
}
