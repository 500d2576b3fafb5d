//! A scripted IMAP server on loopback for the adapter's unit tests: it plays a server that
//! answers wrongly or with hostile sizes, which no real server does on demand.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A scripted IMAP server on loopback: greets, accepts LOGIN and CAPABILITY, and answers
/// every later command with `answer(tag, line)`. Returns its port and the lines it received.
pub(crate) async fn scripted_server<R: AsRef<[u8]>>(
    answer: impl Fn(&str, &str) -> R + Send + 'static,
) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    scripted_server_with("IMAP4rev1 UIDPLUS", answer).await
}

/// As [`scripted_server`], announcing `capabilities` after login.
pub(crate) async fn scripted_server_with<R: AsRef<[u8]>>(
    capabilities: &'static str,
    answer: impl Fn(&str, &str) -> R + Send + 'static,
) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (seen, lines) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else { return };
        let (read, mut write) = socket.into_split();
        let mut read = BufReader::new(read);
        let _ = write.write_all(b"* OK scripted\r\n").await;
        let mut line = String::new();
        while read.read_line(&mut line).await.is_ok_and(|n| n > 0) {
            let command = line.trim_end().to_owned();
            line.clear();
            let _ = seen.send(command.clone());
            let (tag, rest) = command.split_once(' ').unwrap_or((&command, ""));
            let reply = match rest.split(' ').next().unwrap_or("").to_ascii_uppercase().as_str() {
                "LOGIN" => format!("{tag} OK logged in\r\n").into_bytes(),
                "CAPABILITY" => format!("* CAPABILITY {capabilities}\r\n{tag} OK done\r\n").into_bytes(),
                _ => answer(tag, rest).as_ref().to_vec(),
            };
            if write.write_all(&reply).await.is_err() {
                return;
            }
        }
    });
    (port, lines)
}
