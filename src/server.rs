//! Listeners and connections: one tokio task per connection, a global connection limit
//! (welcome 410 past it, draft 4.4), an idle timeout, and one write per reply.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_util::codec::FramedRead;

use agap_adapter_dav::DavBackend;
use agap_adapter_imap::ImapBackend;

use crate::codec::{LineDecoder, Reply, ReplyCode};
use crate::config::Config;
use crate::gateway::Gateway;
use crate::session::Session;
use crate::store::SqliteStore;

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
    let store = SqliteStore::open(&config.store.url).await?;
    let mail = ImapBackend::new(config.imap.settings());
    let collections = match &config.dav.url {
        Some(url) => {
            let base = url::Url::parse(url).map_err(|e| anyhow::anyhow!("[dav] url {url:?}: {e}"))?;
            Some(Arc::new(DavBackend::new(base)) as Arc<dyn agap_adapter_api::collection::CollectionBackend>)
        }
        None => None,
    };
    let gateway = Arc::new(Gateway { config, mail: Arc::new(mail), collections, store: Arc::new(store) });
    start_with(gateway).await
}

/// Starts listeners for an already built gateway.
pub async fn start_with(gateway: Arc<Gateway>) -> anyhow::Result<RunningGateway> {
    let (stop, stopped) = watch::channel(false);
    let limit = Arc::new(Semaphore::new(gateway.config.server.max_connections));
    let mut addresses = Vec::new();
    let mut tasks = Vec::new();
    for address in &gateway.config.server.listen {
        let listener =
            TcpListener::bind(address).await.map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        addresses.push(listener.local_addr()?);
        tasks.push(tokio::spawn(accept_loop(listener, Arc::clone(&gateway), Arc::clone(&limit), stopped.clone())));
    }
    Ok(RunningGateway { addresses, gateway, stop, tasks })
}

async fn accept_loop(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    limit: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
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
        let permit = Arc::clone(&limit).try_acquire_owned().ok();
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            match permit {
                Some(_permit) => serve_connection(stream, peer, gateway).await,
                None => {
                    tracing::warn!(client = %peer.ip(), "connection limit reached");
                    refuse(
                        stream,
                        Reply::new(ReplyCode::RetryLater, "Sorry, too many connections, please retry later"),
                    )
                    .await;
                }
            }
        });
    }
}

async fn refuse(mut stream: TcpStream, reply: Reply) {
    let _ = stream.write_all(reply.to_wire().as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, gateway: Arc<Gateway>) {
    let server = &gateway.config.server;
    let idle = Duration::from_secs(server.idle_timeout_secs.max(1));
    let (reader, mut writer) = stream.into_split();
    let mut lines = FramedRead::new(reader, LineDecoder::new(server.max_line_length));
    let welcome = Reply::ok(format!("Welcome {} [{}]", server.name, peer.ip()));
    if writer.write_all(welcome.to_wire().as_bytes()).await.is_err() {
        return;
    }
    let mut session = Session::new(Arc::clone(&gateway), peer);
    let mut out = Vec::with_capacity(4096);
    loop {
        let line = match tokio::time::timeout(idle, lines.next()).await {
            Err(_) => {
                tracing::info!(client = %peer.ip(), "idle timeout");
                break;
            }
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(line))) => line,
        };
        let step = session.handle_line(line).await;
        if let Some(reply) = step.reply {
            out.clear();
            reply.encode(&mut out);
            if writer.write_all(&out).await.is_err() {
                break;
            }
        }
        if step.close {
            break;
        }
    }
    let _ = writer.shutdown().await;
}
