//! A scripted HTTP server on loopback for the unit tests: answers each request with what a
//! handler says and records what it was asked.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use url::Url;

/// One request as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// An answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// Starts the server; returns its root URL and the log of requests.
pub async fn serve(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> (Url, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let requests = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            let requests = requests.clone();
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut reader = BufReader::new(reader);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut parts = line.split_whitespace();
                let mut request = Request {
                    method: parts.next().unwrap_or_default().to_owned(),
                    path: parts.next().unwrap_or_default().to_owned(),
                    ..Request::default()
                };
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        request.headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let length: usize = request.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                request.body = String::from_utf8_lossy(&body).into_owned();
                let (status, headers, body) = handler(&request);
                requests.lock().expect("log").push(request);
                let mut answer =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
                for (name, value) in headers {
                    answer.push_str(&format!("{name}: {value}\r\n"));
                }
                answer.push_str("\r\n");
                answer.push_str(&body);
                let _ = writer.write_all(answer.as_bytes()).await;
                let _ = writer.shutdown().await;
            });
        }
    });
    (Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url"), log)
}

/// A multistatus of `responses` (inner XML of DAV:multistatus).
pub fn multistatus(responses: &str) -> String {
    format!(r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">{responses}</D:multistatus>"#)
}

/// The answer to the discovery PROPFINDs of an account whose principal is `/p/` and whose
/// calendar home is `/cal/` (`None`: not a discovery request).
pub fn discovery(request: &Request) -> Option<Answer> {
    let found = |props: &str| {
        multistatus(&format!(
            r#"<D:response><D:href>/p/</D:href><D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
        ))
    };
    let body = if request.method != "PROPFIND" {
        return None;
    } else if request.body.contains("current-user-principal") {
        found("<D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>")
    } else if request.body.contains("calendar-home-set") {
        found(
            r#"<C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><D:href>/cal/</D:href></C:calendar-home-set>"#,
        )
    } else {
        return None;
    };
    Some((207, Vec::new(), body))
}

/// A response with a getetag.
pub fn etag_response(href: &str, etag: &str) -> String {
    format!(
        r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>"{etag}"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
    )
}

/// Starts a server that answers every request with 200 and a body of `total` bytes without a
/// Content-Length (so only counting can stop a reader), written in 64 KiB pieces until the
/// client goes away; returns its root URL and the bytes it managed to write.
pub async fn serve_endless(total: usize) -> (Url, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut reader = BufReader::new(reader);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim_end().is_empty() {
                        break;
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n";
                if writer.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let piece = vec![b'x'; 64 << 10];
                let mut sent = 0;
                while sent < total {
                    if writer.write_all(&piece).await.is_err() {
                        return;
                    }
                    sent += piece.len();
                    counter.fetch_add(piece.len(), Ordering::SeqCst);
                }
            });
        }
    });
    (Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url"), written)
}
