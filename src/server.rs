//! Listeners and connections: one tokio task per connection, a global connection limit
//! (welcome 410 past it, draft 4.4) and the per-address ones of `limits` (410, or 531 for a
//! banned client), an idle timeout, one write and flush per reply, and the STLS/SGZP switches
//! (4.8, 4.9) made right after their 200 line went out.
//!
//! Memory per connection is bounded: by the line limit (the codec keeps at most one line and
//! discards the rest of a longer one); by `[mail] max_item_size` for content after 110 and for
//! an item read upstream (a larger one is refused with 511 before it is read whole); and by
//! replies written in chunks as their lines are made, from a rendering consumed as it goes
//! (`transport::write_reply`), so that a slow reader holds up its own reply and nothing else.
//! The session holds no upstream connection while idle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use agap_adapter_api::collection::CollectionBackend;
use agap_adapter_api::mail::MailBackend;
use agap_adapter_dav::DavBackend;
use agap_adapter_imap::ImapBackend;

use crate::account::ReservedChecks;
use crate::auth::UsersFile;
use crate::clock::Clock;
use crate::codec::{Reply, ReplyCode};
use crate::config::Config;
use crate::delivery::Delivery;
use crate::gateway::Gateway;
use crate::limits::{Limits, Refusal};
use crate::session::{Session, Switch};
use crate::store::SqliteStore;
use crate::transport::{BoxedTransport, Connection, Layers, accept_tls};

/// A gateway accepting connections, until `shutdown` is called or it is dropped.
#[derive(Debug)]
pub struct RunningGateway {
    /// The addresses really bound (port 0 in the configuration becomes a real port).
    pub addresses: Vec<SocketAddr>,
    /// The shared state, for inspection.
    pub gateway: Arc<Gateway>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningGateway {
    /// Stops accepting connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Builds the gateway from its configuration and starts its listeners.
pub async fn start(config: Config) -> anyhow::Result<RunningGateway> {
    start_with_clock(config, Clock::system()).await
}

/// As `start`, with the clock of presence times given (tests pass `Clock::manual`).
pub async fn start_with_clock(config: Config, clock: Clock) -> anyhow::Result<RunningGateway> {
    config.validate()?;
    let store = SqliteStore::open(&config.store.url).await?;
    let max_item_size = config.mail.max_item_size;
    let mut imap = config.imap.settings()?;
    imap.max_item_size = max_item_size;
    let mail: Arc<dyn MailBackend> = Arc::new(ImapBackend::new(imap));
    let listing_ttl = config.dav.listing_cache_ttl();
    let collections = match config.dav.base_url()? {
        Some(base) if base.scheme() == "https" => {
            let tls = crate::tls::client_config(config.dav.ca_file.as_deref())?;
            let backend = DavBackend::with_tls(base, &tls);
            Some(Arc::new(backend.with_max_item_size(max_item_size).with_listing_cache(listing_ttl))
                as Arc<dyn CollectionBackend>)
        }
        Some(base) => {
            let backend = DavBackend::new(base);
            Some(Arc::new(backend.with_max_item_size(max_item_size).with_listing_cache(listing_ttl))
                as Arc<dyn CollectionBackend>)
        }
        None => None,
    };
    let files = crate::files::backend(&config.files)?;
    let credentials = UsersFile::load(&config)?;
    let limits = Arc::new(Limits::new(&config.limits)?);
    let delivery = Delivery::from_config(&config, Arc::clone(&mail), collections.clone())?.map(Arc::new);
    let reserved_checks = ReservedChecks::new(config.dav.listing_cache_ttl());
    let gateway = Arc::new(Gateway {
        reserved_checks,
        config,
        mail,
        collections,
        files,
        store: Arc::new(store),
        credentials,
        limits,
        clock,
        delivery,
    });
    start_with(gateway).await
}

/// Starts listeners for an already built gateway: plain ones (`[server] listen`, where STLS
/// can follow) and implicit-TLS ones (`[tls] implicit_listen`).
pub async fn start_with(gateway: Arc<Gateway>) -> anyhow::Result<RunningGateway> {
    let tls = match gateway.config.tls.files() {
        Some((certificate, key)) => Some(TlsAcceptor::from(crate::tls::server_config(certificate, key)?)),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    let limit = Arc::new(Semaphore::new(gateway.config.server.max_connections));
    let mut addresses = Vec::new();
    let mut tasks = Vec::new();
    let plain = gateway.config.server.listen.iter().map(|address| (*address, false));
    let implicit = gateway.config.tls.implicit_listen.iter().map(|address| (*address, true));
    for (address, implicit_tls) in plain.chain(implicit).collect::<Vec<_>>() {
        let listener =
            TcpListener::bind(address).await.map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        addresses.push(listener.local_addr()?);
        let listening =
            Listening { gateway: Arc::clone(&gateway), tls: tls.clone(), implicit_tls, limit: Arc::clone(&limit) };
        tasks.push(tokio::spawn(accept_loop(listener, listening, stopped.clone())));
    }
    Ok(RunningGateway { addresses, gateway, stop, tasks })
}

/// What a listener's connections share.
#[derive(Clone)]
struct Listening {
    gateway: Arc<Gateway>,
    /// The server side of TLS, when a certificate is configured.
    tls: Option<TlsAcceptor>,
    /// TLS from the first byte (the welcome line comes after the handshake).
    implicit_tls: bool,
    limit: Arc<Semaphore>,
}

async fn accept_loop(listener: TcpListener, listening: Listening, mut stopped: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // Counted before the handshake of an implicit-TLS listener, so that a flood of
        // handshakes from one address is bounded too.
        let admission = listening.gateway.limits.admit(peer.ip(), Instant::now());
        let permit = Arc::clone(&listening.limit).try_acquire_owned().ok();
        let listening = listening.clone();
        tokio::spawn(async move {
            let connection = match open_connection(stream, peer, &listening).await {
                Some(connection) => connection,
                None => return,
            };
            match (admission, permit) {
                (Err(refusal), _) => {
                    tracing::warn!(client = %peer.ip(), reason = %refusal, "connection refused");
                    refuse(connection, refusal_reply(&refusal, peer)).await;
                }
                (Ok(_slot), None) => {
                    tracing::warn!(client = %peer.ip(), "connection limit reached");
                    refuse(
                        connection,
                        Reply::new(ReplyCode::RetryLater, "Sorry, too many connections, please retry later"),
                    )
                    .await;
                }
                (Ok(_slot), Some(_permit)) => serve_connection(connection, peer, &listening).await,
            }
        });
    }
}

/// The welcome line of a refused connection (draft 4.4, 7.3).
fn refusal_reply(refusal: &Refusal, peer: SocketAddr) -> Reply {
    let ip = peer.ip();
    match refusal {
        Refusal::BannedNetwork(_) => Reply::new(ReplyCode::Banned, format!("Your IP ({ip}) is blacklisted")),
        Refusal::TemporarilyBanned(left) => Reply::new(
            ReplyCode::Banned,
            format!("Too many failed logins from {ip}, retry in {} minutes", left.as_secs().div_ceil(60).max(1)),
        ),
        Refusal::TooManyFromAddress(_) => {
            Reply::new(ReplyCode::RetryLater, format!("Sorry, too many connections from {ip}, please retry later"))
        }
    }
}

/// The connection ready for its welcome line: after the handshake on an implicit-TLS listener.
async fn open_connection(stream: TcpStream, peer: SocketAddr, listening: &Listening) -> Option<Connection> {
    let server = &listening.gateway.config.server;
    let stream: BoxedTransport = Box::new(stream);
    match (&listening.tls, listening.implicit_tls) {
        (Some(acceptor), true) => {
            let timeout = Duration::from_secs(listening.gateway.config.tls.handshake_timeout_secs.max(1));
            match accept_tls(stream, acceptor, timeout).await {
                Ok(tls) => {
                    let layers = Layers { tls: true, gzip: false };
                    Some(Connection::new(tls, layers, server.max_line_length, peer))
                }
                Err(error) => {
                    tracing::info!(client = %peer.ip(), %error, "implicit TLS");
                    None
                }
            }
        }
        _ => Some(Connection::new(stream, Layers::default(), server.max_line_length, peer)),
    }
}

async fn refuse(mut connection: Connection, reply: Reply) {
    let _ = connection.send(reply).await;
    connection.shutdown().await;
}

async fn serve_connection(mut connection: Connection, peer: SocketAddr, listening: &Listening) {
    let gateway = &listening.gateway;
    let server = &gateway.config.server;
    let idle = Duration::from_secs(server.idle_timeout_secs.max(1));
    let welcome = Reply::ok(format!("Welcome {} [{}]", server.name, peer.ip()));
    if connection.send(welcome).await.is_err() {
        return;
    }
    let mut session = Session::new(Arc::clone(gateway), peer, connection.layers());
    loop {
        let line = match tokio::time::timeout(idle, connection.next_line()).await {
            Err(_) => {
                tracing::warn!(client = %peer.ip(), idle_secs = idle.as_secs(), "idle timeout: closing");
                break;
            }
            Ok(None) => break,
            Ok(Some(line)) => line,
        };
        let step = session.handle_line(line).await;
        if let Some(reply) = step.reply {
            // A client that stops reading holds the rest of a reply where it is; past the idle
            // timeout without room for the next chunk, the connection is given up.
            match tokio::time::timeout(idle, connection.send(reply)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    tracing::warn!(client = %peer.ip(), idle_secs = idle.as_secs(), "client stopped reading: closing");
                    return;
                }
            }
        }
        if step.close {
            break;
        }
        connection = match step.switch {
            None => connection,
            Some(Switch::Gzip) => connection.start_gzip(),
            Some(Switch::Tls) => {
                // The session offers STLS only with a certificate, so the acceptor is there.
                let Some(acceptor) = &listening.tls else { return };
                let timeout = Duration::from_secs(gateway.config.tls.handshake_timeout_secs.max(1));
                match connection.start_tls(acceptor, timeout).await {
                    Ok(connection) => connection,
                    Err(error) => {
                        // Nothing more can be said: the client expects TLS records now.
                        tracing::info!(client = %peer.ip(), %error, "STLS");
                        return;
                    }
                }
            }
        };
    }
    connection.shutdown().await;
}
