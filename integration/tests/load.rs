//! Many sessions at once: 200 sessions of one user stay within the upstream server's
//! per-user connection limit (Dovecot allows 10 per user and address) because they share the
//! gateway's bounded IMAP pool.

use crate::harness::TestGateway;

const SESSIONS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sessions_list_and_select_at_once() {
    // All sessions come from 127.0.0.1: lift the per-address limit above them.
    let gateway = TestGateway::start_with(|config| config.limits.max_connections_per_address = SESSIONS + 10).await;
    // Create the reserved folders once, so the sessions below only read.
    drop(gateway.login("user16").await);
    let mut logins = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        let address = gateway.address();
        logins.push(tokio::spawn(async move {
            let (mut client, welcome) = crate::harness::Client::connect(address).await;
            assert!(welcome.starts_with("200"), "{welcome}");
            client.login("user16").await;
            client
        }));
    }
    let mut clients = Vec::with_capacity(SESSIONS);
    for login in logins {
        clients.push(login.await.expect("login task"));
    }
    // All 200 are logged in at the same time; now each lists and selects.
    let mut work = Vec::with_capacity(SESSIONS);
    for (n, mut client) in clients.into_iter().enumerate() {
        work.push(tokio::spawn(async move {
            let list = client.expect("LIST /*", 200).await;
            assert!(list.lines.contains(&"MESG /INBOX".to_owned()), "{list:?}");
            let folder = ["/INBOX", "/SENT", "/TRASH", "/DRAFT"][n % 4];
            client.expect(&format!("SLCT {folder}"), 200).await;
            let stat = client.expect("STAT", 200).await;
            assert_eq!(stat.lines[0], format!("PATH {folder}"));
            client
        }));
    }
    let mut finished = 0;
    for task in work {
        let mut client = task.await.expect("session task");
        client.expect("QUIT", 200).await;
        finished += 1;
    }
    assert_eq!(finished, SESSIONS);
}
