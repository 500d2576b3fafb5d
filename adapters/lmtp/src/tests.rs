//! The adapter against scripted LMTP servers on loopback: what it sends, and what it makes of
//! hostile or failing answers.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

/// How the scripted server answers a command line (None: the default success).
type Script = fn(&str) -> Option<&'static str>;

/// A one-connection LMTP server answering by `script`; returns its address and the lines and data
/// it received.
async fn scripted_server(script: Script) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        let greeting = script("").unwrap_or("220 lmtp ready\r\n");
        writer.write_all(greeting.as_bytes()).await.expect("greeting");
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            log.lock().expect("log").push(line.clone());
            let answer = if in_data {
                if line != "." {
                    continue;
                }
                in_data = false;
                script("<end of data>").unwrap_or("250 2.0.0 delivered\r\n")
            } else if let Some(answer) = script(&line) {
                answer
            } else if line.starts_with("LHLO") {
                "250-lmtp\r\n250 PIPELINING\r\n"
            } else if line == "DATA" {
                in_data = true;
                "354 go ahead\r\n"
            } else {
                "250 2.1.0 ok\r\n"
            };
            if writer.write_all(answer.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    (address, received)
}

fn delivery(address: String) -> LmtpDelivery {
    LmtpDelivery::new(LmtpSettings {
        address,
        client_name: "gateway.test".into(),
        login: None,
        timeout: Duration::from_secs(2),
    })
}

#[tokio::test]
async fn a_message_goes_out_dot_stuffed_with_nothing_added() {
    let (address, received) = scripted_server(|_| None).await;
    let message = b"Subject: hi\r\n\r\n.leading dot\r\nend\r\n";
    delivery(address).deliver("a@example.com", "user17", message).await.expect("delivered");
    let lines = received.lock().expect("log").clone();
    assert_eq!(lines[0], "LHLO gateway.test");
    assert_eq!(lines[1], "MAIL FROM:<a@example.com>");
    assert_eq!(lines[2], "RCPT TO:<user17>");
    assert_eq!(lines[3..8], ["DATA", "Subject: hi", "", "..leading dot", "end"]);
    assert_eq!(lines[8], ".", "no empty line added before the end");
}

#[tokio::test]
async fn an_unknown_recipient_is_not_found_and_gets_no_data() {
    let (address, received) = scripted_server(|line| {
        line.starts_with("RCPT").then_some("550 5.1.1 <nouser>: user nouser@x.test does not exist here\r\n")
    })
    .await;
    let error = delivery(address).deliver("a@example.com", "nouser", b"x\r\n").await.expect_err("refused");
    assert_eq!(error.kind(), AdapterErrorKind::NotFound);
    assert!(!error.reason().contains("does not exist here"), "the server's words stay upstream");
    assert!(!received.lock().expect("log").iter().any(|line| line == "DATA"));
}

#[tokio::test]
async fn refusals_are_permanent_or_temporary_by_their_class() {
    let (address, _) = scripted_server(|line| (line == "<end of data>").then_some("552 5.2.2 over quota\r\n")).await;
    let error = delivery(address).deliver("a@example.com", "user17", b"x\r\n").await.expect_err("refused");
    assert_eq!(error.kind(), AdapterErrorKind::Refused);
    let (address, _) = scripted_server(|line| line.starts_with("MAIL").then_some("451 4.3.0 try later\r\n")).await;
    let error = delivery(address).deliver("a@example.com", "user17", b"x\r\n").await.expect_err("deferred");
    assert_eq!(error.kind(), AdapterErrorKind::Unavailable);
}

#[tokio::test]
async fn a_server_that_never_stops_talking_is_cut_off() {
    static ENDLESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    fn endless(line: &str) -> Option<&'static str> {
        let text = ENDLESS.get_or_init(|| "250-blah blah blah blah blah blah blah\r\n".repeat(4000));
        line.starts_with("LHLO").then_some(text.as_str())
    }
    let (address, _) = scripted_server(endless).await;
    let error = delivery(address).deliver("a@example.com", "user17", b"x\r\n").await.expect_err("cut off");
    // Refused by the reply parser's own bound or by `Bounded`, whichever comes first.
    assert!(matches!(error.kind(), AdapterErrorKind::Protocol | AdapterErrorKind::Unavailable), "{error}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let _keep = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let mut delivery = delivery(address);
    delivery.settings.timeout = Duration::from_millis(200);
    let error = delivery.deliver("a@example.com", "user17", b"x\r\n").await.expect_err("timed out");
    assert_eq!(error.kind(), AdapterErrorKind::Unavailable);
}

#[tokio::test]
async fn hostile_addresses_never_reach_the_server() {
    let (address, received) = scripted_server(|_| None).await;
    let error = delivery(address).deliver("a@example.com", "x>\r\nRCPT TO:<root", b"x\r\n").await.expect_err("refused");
    assert_eq!(error.kind(), AdapterErrorKind::Refused);
    assert!(received.lock().expect("log").is_empty());
}

#[tokio::test]
async fn verifying_asks_rcpt_and_sends_no_data() {
    let (address, received) =
        scripted_server(|line| (line == "RCPT TO:<nouser>").then_some("550 5.1.1 no such user\r\n")).await;
    let error = delivery(address).verify("nouser").await.expect_err("unknown");
    assert_eq!(error.kind(), AdapterErrorKind::NotFound);
    let lines = received.lock().expect("log").clone();
    assert_eq!(lines[1], "MAIL FROM:<>");
    assert!(!lines.iter().any(|line| line == "DATA"));
    let (address, received) = scripted_server(|_| None).await;
    delivery(address).verify("user17").await.expect("known");
    assert!(!received.lock().expect("log").iter().any(|line| line == "DATA"));
}
