//! The file backend over plain WebDAV (RFC 4918): `DavFileBackend` opens one `DavFileAccount`
//! per login, which finds its home on first use ([`home`]) and answers the `FileAccount`
//! operations with PROPFIND, GET, PUT, DELETE, MKCOL, MOVE and COPY. Every href the core passes
//! must lie in the home, every name is checked and percent-encoded before a request is built.

mod home;
mod listing;

use std::sync::Arc;
use std::time::Duration;

use agap_adapter_api::collection::{ItemRef, Precondition};
use agap_adapter_api::files::{DirectoryListing, FileAccount, FileBackend, FileData, check_name, same_version};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_trait::async_trait;
use reqwest::StatusCode;
use tokio::sync::OnceCell;
use url::Url;

pub use home::{HomeSource, USER_PLACEHOLDER};

use crate::client::{BodyLimits, Bound, DavClient, Reply, http_client, http_client_with_tls, protocol};
use crate::href::{encode_segment, inside, normalize_collection};

/// How long a write waits for the strong ETag of a file whose ETag the core knows only in its
/// weak form (Apache mod_dav_fs answers weak ETags within a second of a change).
const WEAK_ETAG_WAIT: Duration = Duration::from_millis(2500);
/// How often the ETag is asked for meanwhile.
const WEAK_ETAG_POLL: Duration = Duration::from_millis(250);

/// The file backend of one WebDAV server.
#[derive(Debug, Clone)]
pub struct DavFileBackend {
    source: HomeSource,
    origin: Url,
    /// One connection pool for every account (credentials go with each request).
    http: Result<reqwest::Client, AdapterError>,
    limits: BodyLimits,
}

impl DavFileBackend {
    /// A backend for the `[files] url` `url` (see [`HomeSource::parse`]), verifying https against
    /// the system's store.
    pub fn new(url: &str) -> AdapterResult<Self> {
        Self::build(url, http_client())
    }

    /// As [`DavFileBackend::new`], with https verified as `tls` says (the gateway's `ca_file`).
    pub fn with_tls(url: &str, tls: &rustls::ClientConfig) -> AdapterResult<Self> {
        Self::build(url, http_client_with_tls(tls))
    }

    fn build(url: &str, http: AdapterResult<reqwest::Client>) -> AdapterResult<Self> {
        let source = HomeSource::parse(url)?;
        Ok(DavFileBackend { origin: source.origin_url()?, source, http, limits: BodyLimits::default() })
    }

    /// The account of `credentials`, as its concrete type.
    pub fn account(&self, credentials: &Credentials) -> AdapterResult<Arc<DavFileAccount>> {
        let http = self.http.clone()?;
        let client = DavClient::with_http(http, &self.origin, self.limits, credentials.user(), credentials.password());
        Ok(Arc::new(DavFileAccount { client, source: self.source.clone(), home: OnceCell::new() }))
    }
}

#[async_trait]
impl FileBackend for DavFileBackend {
    async fn open(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn FileAccount>> {
        Ok(self.account(credentials)?)
    }
}

/// One account on the file server.
#[derive(Debug)]
pub struct DavFileAccount {
    client: DavClient,
    source: HomeSource,
    home: OnceCell<Url>,
}

/// What a PROPFIND Depth 0 says of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stat {
    collection: bool,
    etag: Option<String>,
}

fn refused(reason: String) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Refused, reason)
}

/// Headers of a MOVE or COPY to `destination`, never overwriting. The Destination carries no
/// user information (the URL the client builds never has any).
fn transfer_headers(destination: &Url, depth: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Destination", destination.to_string()), ("Overwrite", "F".to_owned())];
    if let Some(depth) = depth {
        headers.push(("Depth", depth.to_owned()));
    }
    headers
}

impl DavFileAccount {
    /// The client of this account.
    pub fn client(&self) -> &DavClient {
        &self.client
    }

    /// The home, found on first use.
    pub async fn home_url(&self) -> AdapterResult<&Url> {
        self.home.get_or_try_init(|| self.source.find(&self.client)).await
    }

    /// The canonical path and URL of `href`, which must lie in the home (the home included).
    async fn resolve(&self, href: &str) -> AdapterResult<(String, Url)> {
        let home = self.home_url().await?;
        let home_path = normalize_collection(home, "")?;
        let path = inside(home, &home_path, href)?.ok_or_else(|| {
            refused(format!("{:?} lies outside the file share", crate::client::shown_text(href, 200)))
        })?;
        let url = home.join(&path).map_err(protocol)?;
        Ok((path, url))
    }

    /// As [`DavFileAccount::resolve`] for a directory: the path ends in '/'.
    async fn resolve_directory(&self, href: &str) -> AdapterResult<(String, Url)> {
        let (mut path, _) = self.resolve(href).await?;
        if !path.ends_with('/') {
            path.push('/');
        }
        let url = self.home_url().await?.join(&path).map_err(protocol)?;
        Ok((path, url))
    }

    /// The path and URL of the member `name` of `directory` (a directory when `collection`),
    /// after checking the name.
    async fn member(&self, directory: &str, name: &str, collection: bool) -> AdapterResult<(String, Url)> {
        check_name(name)?;
        let (directory, _) = self.resolve_directory(directory).await?;
        let slash = if collection { "/" } else { "" };
        let path = format!("{directory}{}{slash}", encode_segment(name));
        let url = self.home_url().await?.join(&path).map_err(protocol)?;
        Ok((path, url))
    }

    /// Refuses the home itself as the object of a change.
    async fn not_home(&self, path: &str) -> AdapterResult<()> {
        let home = normalize_collection(self.home_url().await?, "")?;
        if path.trim_end_matches('/') == home.trim_end_matches('/') {
            return Err(refused("the file share itself cannot be moved, copied or deleted".into()));
        }
        Ok(())
    }

    /// Type and ETag of the resource at `url`; `None` when there is none.
    async fn stat(&self, url: &Url) -> AdapterResult<Option<Stat>> {
        match self.client.propfind(url, "0", "<D:resourcetype/><D:getetag/>").await {
            Ok((_, responses)) => {
                let response = responses.first().ok_or_else(|| protocol(format!("{}: an empty answer", url.path())))?;
                Ok(Some(Stat { collection: listing::is_collection(response), etag: listing::etag(response) }))
            }
            Err(error) if error.kind() == AdapterErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The file at `url` as a stat, refusing a directory.
    async fn file_stat(&self, url: &Url) -> AdapterResult<Option<Stat>> {
        let stat = self.stat(url).await?;
        if stat.as_ref().is_some_and(|stat| stat.collection) {
            return Err(refused(format!("{} is a directory", url.path())));
        }
        Ok(stat)
    }

    /// The ETag to send in If-Match for a file the core knows in version `expected`: the
    /// server's current ETag when it is the same version (weak comparison) and strong. A weak one
    /// cannot guard a write (If-Match compares strongly), so the server is asked again until its
    /// ETag turns strong, for at most [`WEAK_ETAG_WAIT`]. `Conflict` when the file changed,
    /// `NotFound` when it is gone.
    async fn guard(&self, url: &Url, expected: &str) -> AdapterResult<String> {
        if !expected.starts_with("W/") {
            return Ok(expected.to_owned());
        }
        let deadline = tokio::time::Instant::now() + WEAK_ETAG_WAIT;
        loop {
            let stat = self.file_stat(url).await?;
            let stat =
                stat.ok_or_else(|| AdapterError::new(AdapterErrorKind::NotFound, format!("{} is gone", url.path())))?;
            match stat.etag {
                Some(current) if !same_version(&current, expected) => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::Conflict,
                        format!("{} changed meanwhile", url.path()),
                    ));
                }
                Some(current) if !current.starts_with("W/") => return Ok(current),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::Conflict,
                        format!("{}: the server gives only a weak ETag, which cannot guard a write", url.path()),
                    ));
                }
                _ => tokio::time::sleep(WEAK_ETAG_POLL).await,
            }
        }
    }

    /// The new ref of a file written at `path`: the ETag the answer carried, or the one the
    /// server reports now (Apache answers a PUT, MOVE or COPY without one).
    async fn written(&self, path: String, url: &Url, reply: &Reply) -> AdapterResult<ItemRef> {
        let etag = match reply.etag.clone().or_else(|| reply.weak_etag.clone()) {
            Some(etag) => Some(etag),
            None => self.stat(url).await?.and_then(|stat| stat.etag),
        };
        Ok(ItemRef { href: path, etag })
    }

    /// MOVE or COPY of `source` to `target` (both in the home), never overwriting.
    async fn transfer(&self, method: &str, source: &Url, target: &Url, depth: Option<&str>) -> AdapterResult<Reply> {
        let reply = self.client.send(method, source, &transfer_headers(target, depth), None).await?;
        match reply.status {
            status if status.is_success() => Ok(reply),
            StatusCode::PRECONDITION_FAILED => {
                Err(AdapterError::new(AdapterErrorKind::AlreadyExists, format!("{} already exists", target.path())))
            }
            // RFC 4918 9.8.5, 9.9.4: the destination's parent is missing.
            StatusCode::CONFLICT => Err(AdapterError::new(
                AdapterErrorKind::NotFound,
                format!("the directory of {} does not exist", target.path()),
            )),
            StatusCode::MULTI_STATUS => Err(refused(format!("{} {} succeeded only in part", method, source.path()))),
            _ => Err(reply.error()),
        }
    }

    /// The target of moving or copying the directory `source` to `name` in `parent`: never the
    /// directory itself or a place inside it.
    async fn directory_target(&self, source: &str, parent: &str, name: &str) -> AdapterResult<(String, Url, Url)> {
        let (source, source_url) = self.resolve_directory(source).await?;
        self.not_home(&source).await?;
        let (target, target_url) = self.member(parent, name, true).await?;
        if target.starts_with(&source) {
            return Err(refused(format!("{target} lies inside {source}")));
        }
        Ok((target, source_url, target_url))
    }

    /// The source and target of moving or copying the file `href` to `name` in `directory`.
    async fn file_target(&self, href: &str, directory: &str, name: &str) -> AdapterResult<(Url, String, Url)> {
        let (source, source_url) = self.resolve(href).await?;
        if source.ends_with('/') {
            return Err(refused(format!("{source} is a directory")));
        }
        self.not_home(&source).await?;
        let (target, target_url) = self.member(directory, name, false).await?;
        Ok((source_url, target, target_url))
    }
}

#[async_trait]
impl FileAccount for DavFileAccount {
    async fn home(&self) -> AdapterResult<String> {
        normalize_collection(self.home_url().await?, "")
    }

    async fn list_directory(&self, directory: &str, max_entries: usize) -> AdapterResult<DirectoryListing> {
        let (path, url) = self.resolve_directory(directory).await?;
        let (answered, responses) = self.client.propfind(&url, "1", listing::LISTING_PROPS).await?;
        listing::members(&answered, &path, &responses, max_entries)
    }

    async fn get_file(&self, href: &str, max_size: usize) -> AdapterResult<Option<FileData>> {
        let (path, url) = self.resolve(href).await?;
        if path.ends_with('/') {
            return Err(refused(format!("{path} is a directory")));
        }
        let reply = self.client.send_bounded("GET", &url, &[], None, Bound::Bytes(max_size)).await?;
        match reply.status {
            StatusCode::OK => {
                let etag = reply.etag.or(reply.weak_etag);
                Ok(Some(FileData { file: ItemRef { href: path, etag }, body: reply.body }))
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
            _ => Err(reply.error()),
        }
    }

    async fn put_file(
        &self,
        directory: &str,
        name: &str,
        body: &[u8],
        precondition: &Precondition,
    ) -> AdapterResult<ItemRef> {
        let (path, url) = self.member(directory, name, false).await?;
        let mut headers = Vec::new();
        match precondition {
            Precondition::Absent => headers.push(("If-None-Match", "*".to_owned())),
            Precondition::Unchanged(etag) => {
                let guard = self.guard(&url, etag).await.map_err(|error| match error.kind() {
                    AdapterErrorKind::NotFound => {
                        AdapterError::new(AdapterErrorKind::Conflict, format!("{path} was deleted meanwhile"))
                    }
                    _ => error,
                })?;
                headers.push(("If-Match", guard));
            }
            Precondition::Any => {}
        }
        let reply = self.client.send("PUT", &url, &headers, Some(body.to_vec())).await?;
        match reply.status {
            status if status.is_success() => self.written(path, &url, &reply).await,
            StatusCode::PRECONDITION_FAILED => Err(match precondition {
                Precondition::Absent => {
                    AdapterError::new(AdapterErrorKind::AlreadyExists, format!("{path} already exists"))
                }
                _ => AdapterError::new(AdapterErrorKind::Conflict, format!("{path} changed meanwhile")),
            }),
            // RFC 4918 9.7.1: the directory is missing.
            StatusCode::CONFLICT => {
                Err(AdapterError::new(AdapterErrorKind::NotFound, format!("the directory of {path} does not exist")))
            }
            // A directory of that name, or a server that takes no PUT there.
            StatusCode::METHOD_NOT_ALLOWED => Err(refused(format!("{path} cannot be written (405)"))),
            StatusCode::PAYLOAD_TOO_LARGE => Err(AdapterError::new(
                AdapterErrorKind::TooLarge,
                format!("{path}: the server takes no file that large"),
            )),
            _ => Err(reply.error()),
        }
    }

    async fn delete_file(&self, href: &str, etag: Option<&str>) -> AdapterResult<bool> {
        let (path, url) = self.resolve(href).await?;
        if path.ends_with('/') {
            return Err(refused(format!("{path} is a directory")));
        }
        // Looked at first: a directory must never go by a file's deletion.
        let Some(stat) = self.file_stat(&url).await? else { return Ok(false) };
        let mut headers = Vec::new();
        if let Some(expected) = etag {
            let guard = match (expected.starts_with("W/"), stat.etag.as_deref()) {
                // The version just read: no need to ask again unless it is weak too.
                (true, Some(current)) if same_version(current, expected) && !current.starts_with("W/") => {
                    current.to_owned()
                }
                (true, _) => match self.guard(&url, expected).await {
                    Err(error) if error.kind() == AdapterErrorKind::NotFound => return Ok(false),
                    other => other?,
                },
                (false, _) => expected.to_owned(),
            };
            headers.push(("If-Match", guard));
        }
        let reply = self.client.send("DELETE", &url, &headers, None).await?;
        match reply.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            StatusCode::PRECONDITION_FAILED => {
                Err(AdapterError::new(AdapterErrorKind::Conflict, format!("{path} changed meanwhile")))
            }
            _ => Err(reply.error()),
        }
    }

    async fn make_directory(&self, parent: &str, name: &str) -> AdapterResult<String> {
        let (path, url) = self.member(parent, name, true).await?;
        let reply = self.client.send("MKCOL", &url, &[], None).await?;
        match reply.status {
            status if status.is_success() => Ok(path),
            // RFC 4918 9.3.1: 405 when something exists there, 409 when the parent is missing.
            StatusCode::METHOD_NOT_ALLOWED => {
                Err(AdapterError::new(AdapterErrorKind::AlreadyExists, format!("{path} already exists")))
            }
            StatusCode::CONFLICT => Err(AdapterError::new(
                AdapterErrorKind::NotFound,
                format!("the parent of {path} does not exist (MKCOL makes no parents)"),
            )),
            _ => Err(reply.error()),
        }
    }

    async fn delete_directory(&self, href: &str) -> AdapterResult<bool> {
        let (path, url) = self.resolve_directory(href).await?;
        self.not_home(&path).await?;
        match self.stat(&url).await? {
            None => return Ok(false),
            Some(stat) if !stat.collection => return Err(refused(format!("{path} is a file"))),
            Some(_) => {}
        }
        let reply = self.client.send("DELETE", &url, &[], None).await?;
        match reply.status {
            // RFC 4918 9.6.1: a multistatus names members that could not be deleted.
            StatusCode::MULTI_STATUS => Err(refused(format!("{path} could only be deleted in part"))),
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            _ => Err(reply.error()),
        }
    }

    async fn move_file(&self, href: &str, directory: &str, name: &str) -> AdapterResult<ItemRef> {
        let (source, target, target_url) = self.file_target(href, directory, name).await?;
        if self.file_stat(&source).await?.is_none() {
            return Err(AdapterError::new(AdapterErrorKind::NotFound, format!("{} does not exist", source.path())));
        }
        let reply = self.transfer("MOVE", &source, &target_url, None).await?;
        self.written(target, &target_url, &reply).await
    }

    async fn copy_file(&self, href: &str, directory: &str, name: &str) -> AdapterResult<ItemRef> {
        let (source, target, target_url) = self.file_target(href, directory, name).await?;
        if self.file_stat(&source).await?.is_none() {
            return Err(AdapterError::new(AdapterErrorKind::NotFound, format!("{} does not exist", source.path())));
        }
        let reply = self.transfer("COPY", &source, &target_url, Some("0")).await?;
        self.written(target, &target_url, &reply).await
    }

    async fn move_directory(&self, href: &str, parent: &str, name: &str) -> AdapterResult<String> {
        let (target, source, target_url) = self.directory_target(href, parent, name).await?;
        self.transfer("MOVE", &source, &target_url, None).await?;
        Ok(target)
    }

    async fn copy_directory(&self, href: &str, parent: &str, name: &str) -> AdapterResult<String> {
        let (target, source, target_url) = self.directory_target(href, parent, name).await?;
        self.transfer("COPY", &source, &target_url, Some("infinity")).await?;
        Ok(target)
    }

    async fn file_tags(&self, href: &str) -> AdapterResult<Option<String>> {
        let (path, url) = self.resolve(href).await?;
        if path.ends_with('/') {
            return Err(refused(format!("{path} is a directory")));
        }
        let (_, responses) = self.client.propfind(&url, "0", "<D:resourcetype/><A:tags/>").await?;
        let response = responses.first().ok_or_else(|| protocol(format!("{path}: an empty answer")))?;
        if listing::is_collection(response) {
            return Err(refused(format!("{path} is a directory")));
        }
        Ok(listing::tags(response))
    }

    async fn set_file_tags(&self, href: &str, tags: Option<&str>) -> AdapterResult<bool> {
        let (path, url) = self.resolve(href).await?;
        if self.file_stat(&url).await?.is_none() {
            return Err(AdapterError::new(AdapterErrorKind::NotFound, format!("{path} does not exist")));
        }
        let tags = tags.filter(|tags| !tags.trim().is_empty());
        let body = crate::requests::proppatch_tags(tags)?;
        let reply = self.client.send_xml("PROPPATCH", &url, None, body).await?;
        match reply.status {
            StatusCode::MULTI_STATUS => {
                let responses = crate::multistatus::parse_multistatus(&reply.text()).map_err(protocol)?;
                // A property refused (403, 409, 507, ...): the server keeps no such property here.
                let refused = responses.iter().any(|response| {
                    response.status.is_some_and(|status| !(200..300).contains(&status)) || !response.failed.is_empty()
                });
                if refused {
                    return Ok(false);
                }
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err(AdapterError::new(AdapterErrorKind::NotFound, format!("{path} does not exist")));
            }
            status if status.is_success() => {}
            // A server without PROPPATCH keeps no dead properties.
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED | StatusCode::FORBIDDEN => return Ok(false),
            _ => return Err(reply.error()),
        }
        // Read back: a server may answer 200 and drop the property all the same.
        Ok(self.file_tags(&path).await?.as_deref() == tags.map(str::trim))
    }
}

#[cfg(test)]
mod tests;
