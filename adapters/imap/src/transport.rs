//! The byte stream to the IMAP server: plain TCP, TLS from the first byte (IMAPS, RFC 8314), or
//! TCP upgraded with STARTTLS (RFC 3501 6.2.1) before anything secret is sent.

use std::sync::Arc;
use std::time::Duration;

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use async_imap::imap_proto::{Response, Status};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::bounded::BoundedStream;
use crate::settings::{ImapSecurity, ImapSettings};

/// Any stream an IMAP session runs over.
pub trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + std::fmt::Debug> ImapStream for T {}

/// The stream of a connection, whatever its protection.
pub type BoxedImapStream = Box<dyn ImapStream>;

pub(crate) fn unavailable(what: &str, error: impl std::fmt::Display) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Unavailable, format!("IMAP server {what}: {error}"))
}

/// Connects as `settings` say and reads the greeting; the client is ready for LOGIN, over TLS
/// unless the settings say plain.
pub async fn connect(settings: &ImapSettings) -> AdapterResult<async_imap::Client<BoxedImapStream>> {
    let address = (settings.host.as_str(), settings.port);
    let tcp = timeout(settings.connect_timeout, TcpStream::connect(address))
        .await
        .map_err(|_| {
            unavailable("did not accept the connection in time", format!("{}:{}", settings.host, settings.port))
        })?
        .map_err(|e| unavailable("is unreachable", e))?;
    // Commands are small request/response exchanges: Nagle's delay only costs latency.
    let _ = tcp.set_nodelay(true);
    match &settings.security {
        ImapSecurity::Plain => {
            let mut client = async_imap::Client::new(buffered(BoundedStream::new(tcp, settings.max_literal())));
            read_greeting(&mut client, settings.connect_timeout).await?;
            Ok(client)
        }
        ImapSecurity::Tls(config) => {
            let tls = handshake(tcp, config, settings).await?;
            let mut client = async_imap::Client::new(tls);
            read_greeting(&mut client, settings.connect_timeout).await?;
            Ok(client)
        }
        ImapSecurity::StartTls(config) => {
            let mut client = async_imap::Client::new(BoundedStream::new(tcp, settings.max_literal()));
            read_greeting(&mut client, settings.connect_timeout).await?;
            // A refusal is an error, never a reason to go on in clear text (no downgrade).
            timeout(settings.command_timeout, client.run_command_and_check_ok("STARTTLS", None))
                .await
                .map_err(|_| unavailable("did not answer STARTTLS", "timeout"))?
                .map_err(|e| unavailable("refused STARTTLS", e))?;
            // into_inner drops whatever the server sent after its OK in clear text: nothing
            // read before the handshake may count as part of the TLS session (RFC 3501 6.2.1).
            let tls = handshake(client.into_inner().into_inner(), config, settings).await?;
            // No second greeting after STARTTLS.
            Ok(async_imap::Client::new(tls))
        }
    }
}

async fn handshake(
    tcp: TcpStream,
    config: &Arc<ClientConfig>,
    settings: &ImapSettings,
) -> AdapterResult<BoxedImapStream> {
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|e| unavailable("has a host name unusable for TLS", format!("{}: {e}", settings.host)))?;
    let connector = TlsConnector::from(Arc::clone(config));
    let tls = timeout(settings.connect_timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| unavailable("did not complete the TLS handshake in time", "timeout"))?
        .map_err(|e| unavailable("failed the TLS handshake", e))?;
    Ok(buffered(BoundedStream::new(tls, settings.max_literal())))
}

/// The stream with its writes gathered until flushed: async-imap writes a command as four
/// pieces (tag, space, command, CRLF) and flushes once, and each piece would otherwise be a
/// system call, a TCP segment (Nagle is off) and, over TLS, a record of its own.
fn buffered<S: ImapStream + 'static>(stream: S) -> BoxedImapStream {
    Box::new(tokio::io::BufWriter::new(stream))
}

async fn read_greeting<T: ImapStream>(client: &mut async_imap::Client<T>, wait: Duration) -> AdapterResult<()> {
    let greeting = timeout(wait, client.read_response())
        .await
        .map_err(|_| unavailable("sent no greeting", "timeout"))?
        .map_err(|e| unavailable("greeting failed", e))?
        .ok_or_else(|| unavailable("closed the connection", "before its greeting"))?;
    if let Response::Data { status: Status::Bye, .. } = greeting.parsed() {
        return Err(unavailable("refused the connection", "BYE"));
    }
    Ok(())
}
