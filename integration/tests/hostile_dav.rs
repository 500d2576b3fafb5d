//! Hostile DAV servers in front of the gateway (issue 12): a fake CalDAV server on loopback,
//! configured as the gateway's `[dav] url` while IMAP stays the pair's IMAP server, that redirects
//! to another origin or from https to http, names members outside the collection asked about,
//! or sends an item larger than `[mail] max_item_size` (the adapter's counting of a streamed body
//! is unit-tested beside it). Each test performs the attack and checks
//! the AGAP reply and what reached which server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::harness::{Client, TestGateway};

/// Accounts used here and nowhere else; their IMAP side is only logged in to.
const REDIRECTED: &str = "user14";
const DOWNGRADED: &str = "user17";
const LISTED: &str = "user18";

/// One request as a fake server saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

/// What a fake server answers: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

type Handler = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

/// A fake HTTP server on loopback and the requests it answered.
struct FakeServer {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Connections that never became a request (a failed TLS handshake, say).
    broken: Arc<AtomicUsize>,
}

impl FakeServer {
    /// A plain HTTP server.
    async fn plain(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> FakeServer {
        Self::start(None, Arc::new(handler)).await
    }

    /// An https server with `certificate`'s key.
    async fn tls(
        certificate: &TestCertificate,
        handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> FakeServer {
        let config =
            agap_gateway::tls::server_config(&certificate.certificate, &certificate.key).expect("server config");
        Self::start(Some(tokio_rustls::TlsAcceptor::from(config)), Arc::new(handler)).await
    }

    async fn start(tls: Option<tokio_rustls::TlsAcceptor>, handler: Handler) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let broken = Arc::new(AtomicUsize::new(0));
        let (log, failures) = (seen.clone(), broken.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (tls, handler, log, failures) = (tls.clone(), handler.clone(), log.clone(), failures.clone());
                tokio::spawn(async move {
                    let answered = match tls {
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(stream) => answer_one(stream, &handler, &log).await,
                            Err(_) => false,
                        },
                        None => answer_one(tcp, &handler, &log).await,
                    };
                    if !answered {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        FakeServer { address, seen, broken }
    }

    fn url(&self, scheme: &str, host: &str) -> String {
        format!("{scheme}://{host}:{}/", self.address.port())
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

/// Reads one request from `stream` and answers it (the connection closes after). False when no
/// whole request arrived.
async fn answer_one<S: AsyncRead + AsyncWrite + Unpin>(stream: S, handler: &Handler, log: &Mutex<Vec<Seen>>) -> bool {
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
        return false;
    }
    let mut parts = line.split_whitespace();
    let mut seen = Seen {
        method: parts.next().unwrap_or_default().to_owned(),
        path: parts.next().unwrap_or_default().to_owned(),
        ..Seen::default()
    };
    let mut length = 0;
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
            return false;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => seen.authorization = Some(value.trim().to_owned()),
            "content-length" => length = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    if stream.read_exact(&mut body).await.is_err() {
        return false;
    }
    seen.body = String::from_utf8_lossy(&body).into_owned();
    let (status, headers, body) = handler(&seen);
    log.lock().expect("log").push(seen);
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let stream = stream.get_mut();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
    true
}

/// A self-signed certificate for localhost and 127.0.0.1, in files.
struct TestCertificate {
    _dir: tempfile::TempDir,
    certificate: PathBuf,
    key: PathBuf,
}

impl TestCertificate {
    fn new() -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).expect("certificate");
        let dir = tempfile::tempdir().expect("directory");
        let certificate = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&certificate, certified.cert.pem()).expect("write certificate");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
        TestCertificate { _dir: dir, certificate, key }
    }
}

fn redirect(to: String) -> Answer {
    (301, vec![("Location", to)], Vec::new())
}

fn multistatus(responses: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:R="urn:ietf:params:xml:ns:carddav" xmlns:A="http://agap-gateway.invalid/ns/">{responses}</D:multistatus>"#
    )
    .into_bytes()
}

fn response(href: &str, props: &str) -> String {
    format!(
        r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
    )
}

/// A fake server that only records what reaches it (answering as a DAV server would).
async fn recorder() -> FakeServer {
    FakeServer::plain(|_| {
        (
            207,
            Vec::new(),
            multistatus(&response("/", "<D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>")),
        )
    })
    .await
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_credentials() {
    let elsewhere = recorder().await;
    let target = elsewhere.url("http", "127.0.0.1");

    // Discovery redirected: the collections are not shown (the mail side goes on), nothing
    // reaches the other origin.
    let redirected = target.clone();
    let server = FakeServer::plain(move |seen| redirect(format!("{redirected}{}", &seen.path[1..]))).await;
    let gateway = gateway_on(server.url("http", "127.0.0.1"), None, None).await;
    let mut client = gateway.login(REDIRECTED).await;
    let reply = client.command("SLCT /CALENDAR").await;
    assert_ne!(reply.code, 200, "{reply:?}");
    client.expect("SLCT /INBOX", 200).await;
    assert!(!server.seen().is_empty(), "discovery asked the configured server");

    // An item read redirected: RETR answers an upstream error naming the other origin.
    let redirected = target.clone();
    let server = FakeServer::plain(calendar_server(
        &[],
        0,
        Box::new(move |path| path.ends_with(".ics").then(|| format!("{redirected}stolen{path}"))),
    ))
    .await;
    let gateway = gateway_on(server.url("http", "127.0.0.1"), None, None).await;
    let mut client = gateway.login(REDIRECTED).await;
    client.expect("SLCT /CALENDAR", 200).await;
    let found = uids(&mut client).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let reply = client.command(&format!("RETR {}", found[0])).await;
    assert!(matches!(reply.code, 401 | 410), "an upstream error: {reply:?}");
    let origin = format!("127.0.0.1:{}", elsewhere.address.port());
    assert!(reply.text.contains(&origin), "the error names {origin}: {reply:?}");
    client.expect("STAT", 200).await;

    assert!(elsewhere.seen().is_empty(), "nothing reached the other origin: {:?}", elsewhere.seen());
    assert_eq!(elsewhere.broken.load(Ordering::SeqCst), 0, "not even a connection");
}

#[tokio::test]
async fn https_is_never_redirected_to_http_even_on_the_same_host() {
    let certificate = TestCertificate::new();
    let plain = recorder().await;
    let plain_url = plain.url("http", "localhost");
    // To http on the same host, another port (where a plain server listens).
    let other_port = FakeServer::tls(
        &certificate,
        calendar_server(&[], 0, Box::new(move |path| Some(format!("{plain_url}{}", &path[1..])))),
    )
    .await;
    // To http on the same host and port: a plain request would reach the https listener.
    let own_port = Arc::new(AtomicUsize::new(0));
    let port = own_port.clone();
    let same_port = FakeServer::tls(
        &certificate,
        calendar_server(
            &[],
            0,
            Box::new(move |path| Some(format!("http://localhost:{}{path}", port.load(Ordering::SeqCst)))),
        ),
    )
    .await;
    own_port.store(usize::from(same_port.address.port()), Ordering::SeqCst);
    for https in [&other_port, &same_port] {
        let gateway = gateway_on(https.url("https", "localhost"), Some(certificate.certificate.clone()), None).await;
        let mut client = gateway.login(DOWNGRADED).await;
        client.expect("SLCT /CALENDAR", 200).await;
        let found = uids(&mut client).await;
        let reply = client.command(&format!("RETR {}", found[0])).await;
        assert!(matches!(reply.code, 401 | 410), "an upstream error: {reply:?}");
        assert!(reply.text.contains("downgrade"), "{reply:?}");
        assert!(https.seen().iter().all(|seen| seen.authorization.is_some()), "credentials went over https");
        assert_eq!(https.broken.load(Ordering::SeqCst), 0, "no plain request reached the https port");
    }
    assert!(plain.seen().is_empty(), "nothing reached the plain server: {:?}", plain.seen());
    assert_eq!(plain.broken.load(Ordering::SeqCst), 0, "not even a connection");
}

/// Where a fake calendar server sends a GET of an item (`None`: it answers it).
type GetRedirect = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A calendar server with the four reserved collections (by their marks) whose listings and
/// multigets also name `outside`, whose GET of `/cal/events/big.ics` answers `big` bytes, and
/// which redirects a GET where `get_redirect` says.
fn calendar_server(
    outside: &'static [&'static str],
    big: usize,
    get_redirect: GetRedirect,
) -> impl Fn(&Seen) -> Answer + Send + Sync + 'static {
    move |seen| {
        let body = &seen.body;
        let event = |uid: &str| {
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            )
        };
        let etag = |href: &str| response(href, r#"<D:getetag>"1"</D:getetag>"#);
        let members = || {
            let mut entries: Vec<String> = outside.iter().map(|href| etag(href)).collect();
            entries.push(etag("/cal/events/in.ics"));
            entries.push(etag("/cal/events/big.ics"));
            entries.concat()
        };
        match seen.method.as_str() {
            "PROPFIND" if body.contains("current-user-principal") => (
                207,
                Vec::new(),
                multistatus(&response(
                    "/",
                    "<D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>",
                )),
            ),
            "PROPFIND" if body.contains("calendar-home-set") => (
                207,
                Vec::new(),
                multistatus(&response(
                    "/p/",
                    "<C:calendar-home-set><D:href>/cal/</D:href></C:calendar-home-set><R:addressbook-home-set><D:href>/cal/</D:href></R:addressbook-home-set>",
                )),
            ),
            "PROPFIND" if seen.path == "/cal/" => {
                let collection = |href: &str, component: &str, mark: &str| {
                    response(
                        href,
                        &format!(
                            r#"<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>x</D:displayname><C:supported-calendar-component-set><C:comp name="{component}"/></C:supported-calendar-component-set><A:folder>{mark}</A:folder><D:sync-token>t</D:sync-token>"#
                        ),
                    )
                };
                let book = response(
                    "/cal/book/",
                    r#"<D:resourcetype><D:collection/><R:addressbook/></D:resourcetype><A:folder>ADDR /CONTACT</A:folder>"#,
                );
                let list = [
                    response("/cal/", "<D:resourcetype><D:collection/></D:resourcetype>"),
                    collection("/cal/events/", "VEVENT", "CALE /CALENDAR"),
                    collection("/cal/tasks/", "VTODO", "TASK /TASK"),
                    collection("/cal/journal/", "VJOURNAL", "JRNL /JOURNAL"),
                    book,
                    // A collection elsewhere: never shown, never used.
                    collection("/elsewhere/", "VEVENT", "CALE /Stolen"),
                ];
                (207, Vec::new(), multistatus(&list.concat()))
            }
            "PROPFIND" => (207, Vec::new(), multistatus(&members())),
            "REPORT" if body.contains("sync-collection") => {
                let mut document = String::from_utf8(multistatus(&members())).expect("utf-8");
                document = document.replace("</D:multistatus>", "<D:sync-token>t2</D:sync-token></D:multistatus>");
                (207, Vec::new(), document.into_bytes())
            }
            "REPORT" if body.contains("multiget") => {
                let data = |href: &str, uid: &str| {
                    response(
                        href,
                        &format!(r#"<D:getetag>"1"</D:getetag><C:calendar-data>{}</C:calendar-data>"#, event(uid)),
                    )
                };
                let mut entries: Vec<String> = outside.iter().map(|href| data(href, "outside")).collect();
                entries.push(data("/cal/events/in.ics", "in"));
                entries.push(data("/cal/events/big.ics", "big"));
                (207, Vec::new(), multistatus(&entries.concat()))
            }
            "REPORT" => (207, Vec::new(), multistatus(&members())),
            "GET" if get_redirect(&seen.path).is_some() => redirect(get_redirect(&seen.path).unwrap_or_default()),
            "GET" if seen.path == "/cal/events/big.ics" => {
                let whole = event("big");
                let (head, tail) = whole.split_at(whole.find("END:VEVENT").expect("end"));
                let filler = format!("X-FILLER:{}\r\n", "x".repeat(60));
                let body = format!("{head}{}{tail}", filler.repeat(big / filler.len() + 1));
                (200, vec![("ETag", "\"1\"".into())], body.into_bytes())
            }
            "GET" => (200, vec![("ETag", "\"1\"".into())], event("in").into_bytes()),
            _ => (405, Vec::new(), Vec::new()),
        }
    }
}

/// A plain [`calendar_server`] that redirects no GET.
async fn listing_server(outside: &'static [&'static str], big: usize) -> FakeServer {
    FakeServer::plain(calendar_server(outside, big, Box::new(|_| None))).await
}

/// A gateway on the fake DAV server at `url` (plain http allowed, or https verified with `ca`).
async fn gateway_on(url: String, ca: Option<PathBuf>, max_item_size: Option<usize>) -> TestGateway {
    TestGateway::start_with(|config| {
        config.dav.allow_plain = url.starts_with("http:");
        config.dav.url = Some(url);
        config.dav.ca_file = ca;
        if let Some(limit) = max_item_size {
            config.mail.max_item_size = limit;
        }
    })
    .await
}

/// The UIDs of the selected folder's items (FIND without a filter).
async fn uids(client: &mut Client) -> Vec<String> {
    let found = client.filtered("FIND", &[]).await;
    assert_eq!(found.code, 200, "{found:?}");
    found.lines
}

const OUTSIDE: &[&str] = &[
    "/cal/tasks/x.ics",
    "/cal/events/../tasks/y.ics",
    "/cal/events/%2e%2e/journal/z.ics",
    "http://evil.example/cal/events/w.ics",
    "/cal/eventsx/v.ics",
];

#[tokio::test]
async fn members_outside_the_collection_are_never_shown_or_touched() {
    let server = listing_server(OUTSIDE, 0).await;
    let gateway = gateway_on(server.url("http", "127.0.0.1"), None, None).await;
    let mut client = gateway.login(LISTED).await;
    let list = client.expect("LIST /*", 200).await;
    assert!(!list.lines.iter().any(|line| line.contains("Stolen")), "{list:?}");
    client.expect("SLCT /CALENDAR", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert!(stat.lines.iter().any(|line| line == "TOTAL 2"), "only the two members inside: {stat:?}");
    let found = uids(&mut client).await;
    assert_eq!(found.len(), 2, "{found:?}");
    for uid in &found {
        client.expect(&format!("RETR {uid}"), 200).await;
    }
    let names = ["x.ics", "y.ics", "z.ics", "w.ics", "v.ics"];
    for seen in server.seen() {
        assert!(!seen.path.starts_with("/elsewhere/"), "a request to a collection outside the home: {seen:?}");
        assert!(
            !names.iter().any(|name| seen.path.contains(name) || seen.body.contains(name)),
            "a request naming an href the server put outside the collection: {seen:?}"
        );
    }
}

#[tokio::test]
async fn an_item_over_the_size_limit_is_refused_without_being_read_whole() {
    let limit = 64 << 10;
    let server = listing_server(&[], 4 << 20).await;
    let gateway = gateway_on(server.url("http", "127.0.0.1"), None, Some(limit)).await;
    let mut client = gateway.login(LISTED).await;
    client.expect("SLCT /CALENDAR", 200).await;
    let found = uids(&mut client).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let mut codes = Vec::new();
    for uid in &found {
        codes.push(client.command(&format!("RETR {uid}")).await.code);
    }
    codes.sort_unstable();
    assert_eq!(codes, [200, 511], "the big item is refused, the other read");
    client.expect("STAT", 200).await;
}
