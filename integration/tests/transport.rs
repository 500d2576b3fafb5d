//! STLS, SGZP and implicit TLS towards clients (draft 3.1, 4.7-4.9; docs/interpretations.md,
//! `TLS-GZIP-ORDER`, `CAPA-GZIP-TLS`, GZIP-FRAMING), the AUTH-before-STLS switch, and TLS towards
//! the IMAP server (IMAPS, STARTTLS) against a Dovecot with a certificate made at test time. Users
//! user49..user55.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use agap_gateway::codec::Line;
use agap_gateway::config::{Config, UpstreamSecurity};
use agap_gateway::session::{Session, Switch};
use agap_gateway::transport::{BoxedTransport, GzipStream, Layers};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::harness::{Reply, TIMEOUT, TestGateway, imap_append_raw, imap_on, password, private_dovecot_tls};

/// A self-signed certificate for localhost and 127.0.0.1, written to files for the gateway.
struct TestCertificate {
    certificate_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
    dir: tempfile::TempDir,
}

impl TestCertificate {
    fn new() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a self-signed certificate");
        let dir = tempfile::tempdir().expect("directory");
        let certificate_pem = certified.cert.pem();
        let key_pem = certified.signing_key.serialize_pem();
        std::fs::write(dir.path().join("cert.pem"), &certificate_pem).expect("write cert");
        std::fs::write(dir.path().join("key.pem"), &key_pem).expect("write key");
        Self { certificate_pem, key_pem, der: certified.cert.der().clone(), dir }
    }

    fn certificate_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// Points the gateway's [tls] at this certificate.
    fn configure(&self, config: &mut Config) {
        config.tls.certificate = Some(self.certificate_file());
        config.tls.key = Some(self.key_file());
    }

    /// A client configuration trusting only this certificate.
    fn connector(&self) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).expect("root");
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// An AGAP client whose stream is rebuilt at each STLS and SGZP, like the gateway's.
struct LayeredClient {
    stream: BufReader<BoxedTransport>,
}

impl LayeredClient {
    async fn connect(address: SocketAddr) -> LayeredClient {
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect(address)).await.expect("in time").expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        LayeredClient { stream: BufReader::new(Box::new(tcp)) }
    }

    /// Connects and reads the welcome line.
    async fn welcomed(address: SocketAddr) -> LayeredClient {
        let mut client = Self::connect(address).await;
        assert_eq!(client.read_reply().await.code, 200, "welcome");
        client
    }

    async fn send(&mut self, line: &str) {
        let stream = self.stream.get_mut();
        stream.write_all(format!("{line}\r\n").as_bytes()).await.expect("send");
        // A sync flush through gzip: the gateway must see the line now.
        stream.flush().await.expect("flush");
    }

    async fn read_reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(TIMEOUT, self.stream.read_line(&mut line)).await.expect("a line in time");
            assert!(read.expect("read") > 0, "the gateway closed the connection");
            let line = line.trim_end_matches('\n').trim_end_matches('\r');
            if let Some(data) = line.strip_prefix('.') {
                lines.push(data.to_owned());
                continue;
            }
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("not a reply: {line:?}"));
            return Reply { code, text: line.get(4..).unwrap_or("").to_owned(), lines };
        }
    }

    async fn expect(&mut self, line: &str, code: u16) -> Reply {
        self.send(line).await;
        let reply = self.read_reply().await;
        assert_eq!(reply.code, code, "{line:?} answered {reply:?}");
        reply
    }

    /// The stream without the reader's buffer, which must be empty: the client does not read
    /// ahead of a switch either.
    fn into_inner(self) -> BoxedTransport {
        assert!(self.stream.buffer().is_empty(), "bytes behind the reply of a switch");
        self.stream.into_inner()
    }

    async fn start_tls(self, connector: &TlsConnector) -> LayeredClient {
        let name = ServerName::try_from("localhost").expect("name");
        let tls = tokio::time::timeout(TIMEOUT, connector.connect(name, self.into_inner()))
            .await
            .expect("handshake in time")
            .expect("handshake with a verified certificate");
        LayeredClient { stream: BufReader::new(Box::new(tls)) }
    }

    fn start_gzip(self) -> LayeredClient {
        LayeredClient { stream: BufReader::new(Box::new(GzipStream::new(self.into_inner()))) }
    }

    /// STLS, its 200 in clear, then the handshake.
    async fn stls(mut self, connector: &TlsConnector) -> LayeredClient {
        assert_eq!(self.expect("STLS", 200).await.text, "OK Using TLS");
        self.start_tls(connector).await
    }

    /// SGZP, its 200 uncompressed, then gzip both ways.
    async fn sgzp(mut self) -> LayeredClient {
        assert_eq!(self.expect("SGZP", 200).await.text, "OK Using GZIP");
        self.start_gzip()
    }

    async fn capa(&mut self) -> Vec<String> {
        self.expect("CAPA", 200).await.lines
    }

    async fn login(&mut self, user: &str) {
        self.expect("AUTH PLAIN", 200).await;
        self.expect(&format!("USER {user}"), 200).await;
        self.expect(&format!("PASS {}", password(user)), 200).await;
    }

    /// Logs in and goes through a session: SLCT, STAT, RETR of a message put there over IMAP,
    /// LIST, QUIT.
    async fn whole_session(mut self, user: &str) {
        let subject = format!("Over layers for {user}");
        let message = format!("From: a@example.com\r\nTo: {user}@example.com\r\nSubject: {subject}\r\n\r\nHello\r\n");
        let mut imap = crate::harness::imap(user).await;
        imap_append_raw(&mut imap, "INBOX", message.as_bytes()).await;
        self.login(user).await;
        self.expect("SLCT /INBOX", 200).await;
        assert!(self.expect("STAT", 200).await.lines.contains(&"PATH /INBOX".to_owned()));
        let retr = self.expect("RETR 1", 200).await;
        assert!(retr.lines.contains(&format!("<Subject>{subject}</Subject>")), "{retr:?}");
        let list = self.expect("LIST /*", 200).await;
        assert!(list.lines.iter().any(|line| line.contains("/INBOX")), "{list:?}");
        self.expect("QUIT", 200).await;
    }
}

async fn gateway_with_tls(certificate: &TestCertificate) -> TestGateway {
    TestGateway::start_with(|config| certificate.configure(config)).await
}

#[tokio::test]
async fn capa_lists_stls_and_sgzp_until_they_are_on() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let mut client = LayeredClient::welcomed(gateway.address()).await;
    let capa = client.capa().await;
    for name in ["AUTH-PLAIN", "MESG", "SGZP", "STLS"] {
        assert!(capa.contains(&name.to_owned()), "{name} missing from {capa:?}");
    }
    let mut client = client.stls(&certificate.connector()).await;
    let capa = client.capa().await;
    assert!(!capa.contains(&"STLS".to_owned()) && capa.contains(&"SGZP".to_owned()), "{capa:?}");
    let mut client = client.sgzp().await;
    let capa = client.capa().await;
    assert!(!capa.contains(&"STLS".to_owned()) && !capa.contains(&"SGZP".to_owned()), "{capa:?}");
    assert!(capa.contains(&"AUTH-PLAIN".to_owned()));
}

#[tokio::test]
async fn without_a_certificate_stls_is_510_and_not_in_capa() {
    let gateway = TestGateway::start_with(|config| config.server.compression = false).await;
    let mut client = LayeredClient::welcomed(gateway.address()).await;
    let capa = client.capa().await;
    assert!(!capa.contains(&"STLS".to_owned()) && !capa.contains(&"SGZP".to_owned()), "{capa:?}");
    client.expect("STLS", 510).await;
    client.expect("SGZP", 510).await;
    client.expect("STLS now", 510).await;
    client.expect("NOOP", 510).await; // still in clear, still in the not-authenticated state
}

#[tokio::test]
async fn auth_over_stls_and_stls_again_answers_200() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let client = LayeredClient::welcomed(gateway.address()).await;
    let mut client = client.stls(&certificate.connector()).await;
    // 4.9: inside TLS, STLS only answers 200 (and nothing is switched).
    assert_eq!(client.expect("STLS", 200).await.text, "OK Using TLS");
    client.login("user49").await;
    assert!(client.expect("STAT", 200).await.lines.contains(&"PATH /INBOX".to_owned()));
    // AFTER-LOGIN: after login STLS is 510.
    client.expect("STLS", 510).await;
}

#[tokio::test]
async fn the_implicit_tls_listener_speaks_tls_from_the_first_byte() {
    let certificate = TestCertificate::new();
    let gateway = TestGateway::start_with(|config| {
        certificate.configure(config);
        config.tls.implicit_listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
    })
    .await;
    let implicit = gateway.running.addresses[1];
    let client = LayeredClient::connect(implicit).await;
    let mut client = client.start_tls(&certificate.connector()).await;
    assert_eq!(client.read_reply().await.code, 200, "welcome inside TLS");
    assert!(!client.capa().await.contains(&"STLS".to_owned()));
    client.expect("STLS", 200).await;
    client.whole_session("user50").await;
}

#[tokio::test]
async fn a_whole_session_over_sgzp() {
    let gateway = TestGateway::start().await;
    let client = LayeredClient::welcomed(gateway.address()).await;
    let mut client = client.sgzp().await;
    // 4.8: SGZP inside compression answers 200 and changes nothing.
    assert_eq!(client.expect("SGZP", 200).await.text, "OK Using GZIP");
    client.whole_session("user51").await;
}

#[tokio::test]
async fn stls_then_sgzp() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let client = LayeredClient::welcomed(gateway.address()).await;
    let client = client.stls(&certificate.connector()).await.sgzp().await;
    client.whole_session("user52").await;
}

#[tokio::test]
async fn sgzp_then_stls() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let client = LayeredClient::welcomed(gateway.address()).await;
    // TLS inside the gzip streams (docs/interpretations.md, TLS-GZIP-ORDER: works here).
    let client = client.sgzp().await.stls(&certificate.connector()).await;
    client.whole_session("user53").await;
}

#[tokio::test]
async fn bytes_pipelined_behind_stls_are_dropped() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let mut client = LayeredClient::welcomed(gateway.address()).await;
    // A command injected behind STLS in clear (CVE-2011-0411) must not run inside TLS.
    client.stream.get_mut().write_all(b"STLS\r\nCAPA\r\n").await.expect("send");
    assert_eq!(client.read_reply().await.code, 200);
    let mut client = client.start_tls(&certificate.connector()).await;
    let noop = client.expect("NOOP", 510).await;
    assert!(noop.lines.is_empty(), "the pipelined CAPA was answered: {noop:?}");
}

/// The switch is decided by the client's address, and tests reach the gateway over loopback
/// only: this drives a session as from another host directly.
#[tokio::test]
async fn auth_waits_for_stls_from_another_host() {
    let certificate = TestCertificate::new();
    let gateway = gateway_with_tls(&certificate).await;
    let shared = Arc::clone(&gateway.running.gateway);
    let remote: SocketAddr = "192.0.2.10:40000".parse().expect("address");
    let mut session = Session::new(Arc::clone(&shared), remote, Layers::default());
    let line = |text: &str| Line::Text(text.to_owned());
    let reply = session.handle_line(line("AUTH PLAIN")).await.reply.expect("reply");
    assert_eq!(
        (reply.code.number(), reply.text.as_str()),
        (512, "EXPECTED STLS: AUTH needs an encrypted channel from a client on another host")
    );
    let capa: Vec<String> = session.handle_line(line("CAPA")).await.reply.expect("reply").body.into_iter().collect();
    assert!(!capa.iter().any(|l| l.starts_with("AUTH-")) && capa.contains(&"STLS".to_owned()), "{capa:?}");
    let step = session.handle_line(line("STLS")).await;
    assert_eq!(step.switch, Some(Switch::Tls));
    assert!(session.channel().layers.tls);
    let capa: Vec<String> = session.handle_line(line("CAPA")).await.reply.expect("reply").body.into_iter().collect();
    assert!(capa.contains(&"AUTH-PLAIN".to_owned()), "{capa:?}");
    let pass = format!("PASS {}", password("user54"));
    for command in ["AUTH PLAIN", "USER user54", pass.as_str(), "STAT"] {
        let reply = session.handle_line(line(command)).await.reply.expect("reply");
        assert_eq!(reply.code.number(), 200, "{command}: {reply:?}");
    }
    // The same from a loopback client needs no STLS, and a switched-off rule neither.
    let mut local = Session::new(Arc::clone(&shared), "127.0.0.1:40000".parse().expect("address"), Layers::default());
    assert_eq!(local.handle_line(line("AUTH PLAIN")).await.reply.expect("reply").code.number(), 200);
    let relaxed = TestGateway::start_with(|config| config.tls.require_for_auth = false).await;
    let mut remote_relaxed = Session::new(Arc::clone(&relaxed.running.gateway), remote, Layers::default());
    assert_eq!(remote_relaxed.handle_line(line("AUTH PLAIN")).await.reply.expect("reply").code.number(), 200);
}

/// Logs in through a gateway whose IMAP side is configured by `adjust`; the PASS reply code.
async fn login_through(adjust: impl FnOnce(&mut Config), user: &str) -> u16 {
    let gateway = TestGateway::start_with(adjust).await;
    let mut client = LayeredClient::welcomed(gateway.address()).await;
    client.expect("AUTH PLAIN", 200).await;
    client.expect(&format!("USER {user}"), 200).await;
    client.send(&format!("PASS {}", password(user))).await;
    client.read_reply().await.code
}

#[tokio::test]
async fn upstream_imaps_and_starttls_verify_the_certificate() {
    let certificate = TestCertificate::new();
    let (dovecot, imaps_port) = private_dovecot_tls(&certificate.certificate_pem, &certificate.key_pem);
    let user = "user55";
    // The account exists and the plain port still works for a direct client.
    drop(imap_on(dovecot.port, user).await);
    let ca_file = certificate.certificate_file();
    let imaps = |config: &mut Config| {
        config.imap.port = imaps_port;
        config.imap.security = UpstreamSecurity::Tls;
        config.imap.ca_file = Some(ca_file.clone());
    };
    assert_eq!(login_through(imaps, user).await, 200, "IMAPS with the CA file");
    let starttls = |config: &mut Config| {
        config.imap.port = dovecot.port;
        config.imap.security = UpstreamSecurity::Starttls;
        config.imap.ca_file = Some(ca_file.clone());
    };
    assert_eq!(login_through(starttls, user).await, 200, "STARTTLS with the CA file");
    // The same servers with another CA: the certificate is not trusted, no login.
    let stranger = TestCertificate::new();
    let untrusted = |config: &mut Config| {
        config.imap.port = imaps_port;
        config.imap.security = UpstreamSecurity::Tls;
        config.imap.ca_file = Some(stranger.certificate_file());
    };
    assert_eq!(login_through(untrusted, user).await, 410, "IMAPS with an untrusted certificate");
    let untrusted_starttls = |config: &mut Config| {
        config.imap.port = dovecot.port;
        config.imap.security = UpstreamSecurity::Starttls;
        config.imap.ca_file = Some(stranger.certificate_file());
    };
    assert_eq!(login_through(untrusted_starttls, user).await, 410, "STARTTLS with an untrusted certificate");
}

#[tokio::test]
async fn starttls_to_a_server_without_tls_is_refused_not_downgraded() {
    let certificate = TestCertificate::new();
    let ca_file = certificate.certificate_file();
    // The pair's IMAP server has no TLS: STARTTLS fails, and no LOGIN goes out in clear.
    let code = login_through(
        |config| {
            config.imap.security = UpstreamSecurity::Starttls;
            config.imap.ca_file = Some(ca_file.clone());
        },
        "user55",
    )
    .await;
    assert_eq!(code, 410, "an unavailable upstream");
}

/// A one-answer HTTPS server: every request over TLS is counted and answered 401.
async fn https_counting_server(certificate: &TestCertificate) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncReadExt;
    let config = agap_gateway::tls::server_config(&certificate.certificate_file(), &certificate.key_file())
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), Arc::clone(&counted));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buffer = [0; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                let _ = tls.write_all(answer).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (address, requests)
}

#[tokio::test]
async fn upstream_https_to_dav_verifies_the_certificate() {
    use agap_adapter_api::{AdapterErrorKind, Credentials};
    use std::sync::atomic::Ordering;
    let certificate = TestCertificate::new();
    let (address, requests) = https_counting_server(&certificate).await;
    let base = url::Url::parse(&format!("https://localhost:{}/", address.port())).expect("url");
    let credentials = Credentials::new("user55", password("user55"));
    let trusted = agap_gateway::tls::client_config(Some(&certificate.certificate_file())).expect("client config");
    let account =
        agap_adapter_dav::DavBackend::with_tls(base.clone(), &trusted).account(&credentials).expect("account");
    let error = account.homes().await.expect_err("the server answers 401");
    assert_ne!(error.kind(), AdapterErrorKind::Unavailable, "{error}");
    assert!(requests.load(Ordering::SeqCst) > 0, "a request arrived over verified TLS");
    let before = requests.load(Ordering::SeqCst);
    let stranger = TestCertificate::new();
    let untrusted = agap_gateway::tls::client_config(Some(&stranger.certificate_file())).expect("client config");
    let account = agap_adapter_dav::DavBackend::with_tls(base, &untrusted).account(&credentials).expect("account");
    let error = account.homes().await.expect_err("an untrusted certificate");
    assert_eq!(error.kind(), AdapterErrorKind::Unavailable, "{error}");
    assert_eq!(requests.load(Ordering::SeqCst), before, "no request over an unverified channel");
}
