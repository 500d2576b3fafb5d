//! The collection backend over CalDAV and CardDAV: `DavBackend` opens one `DavAccount` per login,
//! which discovers its homes on first use and answers the `CollectionAccount` operations.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agap_adapter_api::collection::{
    CollectionAccount, CollectionBackend, CollectionInfo, FoundItems, ItemData, ItemKind, ItemRef, MarkOutcome,
    Precondition, SyncChanges,
};
use agap_adapter_api::query::Query;
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_trait::async_trait;
use reqwest::StatusCode;
use tokio::sync::OnceCell;
use url::Url;

use crate::cache::UserCaches;
use crate::client::{
    BodyLimits, Bound, Collection, CollectionKind, DavClient, Reply, http_client, http_client_with_tls, protocol,
    refused,
};
use crate::href::{canonical_path, inside, last_segment, normalize, normalize_collection, url_of};
use crate::multistatus::{AGAP, CALDAV, CARDDAV, DAV, PropResponse, parse_multistatus, parse_multistatus_document};
use crate::{query, requests};

/// Hrefs asked for in one multiget, so that one answer stays bounded.
pub const MULTIGET_BATCH: usize = 500;

/// The longest sync-token kept: the gateway stores it with the UID map and sends it back, so a
/// server's token past this is taken as none (the collection is listed instead). Tokens are URIs
/// (RFC 6578 4); real ones are well under 200 bytes.
pub const MAX_SYNC_TOKEN: usize = 4096;

/// Pages of a truncated sync-collection answer followed (RFC 6578 3.6).
const MAX_SYNC_PAGES: usize = 100;

/// The CalDAV and CardDAV backend of one server.
#[derive(Debug, Clone)]
pub struct DavBackend {
    base: Url,
    /// One connection pool for every account (credentials go with each request).
    http: Result<reqwest::Client, AdapterError>,
    fixed: Option<Credentials>,
    limits: BodyLimits,
    caches: UserCaches,
}

impl DavBackend {
    /// A backend for the server at `base` (its root; discovery starts at `/.well-known/caldav`
    /// and `/.well-known/carddav`, then `base` itself). Accounts log in with the credentials of
    /// the AGAP login passed to `open`.
    pub fn new(base: Url) -> Self {
        DavBackend {
            base,
            http: http_client(),
            fixed: None,
            limits: BodyLimits::default(),
            caches: UserCaches::new(Duration::ZERO),
        }
    }

    /// As [`DavBackend::new`], with https verified as `tls` says (the gateway's `ca_file`).
    pub fn with_tls(base: Url, tls: &rustls::ClientConfig) -> Self {
        DavBackend {
            base,
            http: http_client_with_tls(tls),
            fixed: None,
            limits: BodyLimits::default(),
            caches: UserCaches::new(Duration::ZERO),
        }
    }

    /// Reads no item body past `max_item_size` bytes (the gateway's `[mail] max_item_size`), and
    /// no other answer past the listing bound derived from it ([`BodyLimits::for_item_size`]).
    pub fn with_max_item_size(mut self, max_item_size: usize) -> Self {
        self.limits = BodyLimits::for_item_size(max_item_size);
        self
    }

    /// Keeps each user's list of collections for `ttl`, shared by that user's sessions, instead
    /// of listing the homes whenever a session asks (zero: always ask). A collection made,
    /// renamed or removed through this backend, or [`CollectionAccount::forget_listing`], drops
    /// the user's listing at once; one changed by another client shows within `ttl`.
    pub fn with_listing_cache(mut self, ttl: Duration) -> Self {
        self.caches = UserCaches::new(ttl);
        self
    }

    /// Uses these credentials for every account instead of the AGAP login's (a gateway whose
    /// DAV accounts differ from its login accounts).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.fixed = Some(credentials);
        self
    }

    /// The server's root URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The account of `credentials` (or of the fixed credentials), as its concrete type.
    pub fn account(&self, credentials: &Credentials) -> AdapterResult<Arc<DavAccount>> {
        let credentials = self.fixed.as_ref().unwrap_or(credentials);
        self.account_at(credentials, None)
    }

    /// The account whose homes `principal` names (or, without one, those of the account that
    /// logs in), reached with `credentials`.
    fn account_at(&self, credentials: &Credentials, principal: Option<Url>) -> AdapterResult<Arc<DavAccount>> {
        let http = self.http.clone()?;
        // Another account's homes are looked up each time: they are found through its principal,
        // not the login's own discovery, and only FSTO asks for them.
        let cache = principal.is_none().then(|| self.caches.clone());
        Ok(Arc::new(DavAccount {
            base: self.base.clone(),
            client: DavClient::with_http(http, &self.base, self.limits, credentials.user(), credentials.password()),
            credentials: credentials.clone(),
            principal,
            homes: OnceCell::new(),
            cache,
        }))
    }
}

#[async_trait]
impl CollectionBackend for DavBackend {
    async fn open(&self, credentials: &Credentials) -> AdapterResult<Arc<dyn CollectionAccount>> {
        Ok(self.account(credentials)?)
    }

    /// The principal is the template with the user as one percent-encoded segment, resolved
    /// against the server's root: it must stay on the configured origin (the credentials go
    /// nowhere else), which `homes_of` checks before any request.
    async fn open_other(
        &self,
        credentials: &Credentials,
        principal_template: &str,
        user: &str,
    ) -> AdapterResult<Arc<dyn CollectionAccount>> {
        let path = principal_template.replace(crate::USER_PLACEHOLDER, &crate::href::encode_segment(user));
        let principal = self.base.join(&path).map_err(|error| {
            AdapterError::new(AdapterErrorKind::Refused, format!("the principal of {user:?}: {error}"))
        })?;
        Ok(self.account_at(credentials, Some(principal))?)
    }
}

/// The calendar and address book homes of an account (RFC 4791 6.2.1, RFC 6352 7.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountHomes {
    pub calendar: Option<Url>,
    pub addressbook: Option<Url>,
}

/// One account on the DAV server.
#[derive(Debug)]
pub struct DavAccount {
    base: Url,
    client: DavClient,
    /// What the client logs in with, to tell whose cached listing this login may see.
    credentials: Credentials,
    /// The principal whose homes this account works in, when it is not the logged-in one's
    /// (a service account reaching another account's collections).
    principal: Option<Url>,
    homes: OnceCell<AccountHomes>,
    /// The backend's per-user caches, for the login's own account.
    cache: Option<UserCaches>,
}

/// The kind a gateway mark (`TYPE /path`) stands for.
fn mark_kind(mark: &str) -> Option<ItemKind> {
    match mark.split_whitespace().next()? {
        "CALE" => Some(ItemKind::Events),
        "TASK" => Some(ItemKind::Tasks),
        "JRNL" => Some(ItemKind::Journals),
        "ADDR" => Some(ItemKind::Contacts),
        _ => None,
    }
}

/// What the core sees of a collection; `None` for calendars of none of the three components.
fn collection_info(collection: Collection) -> Option<CollectionInfo> {
    let marked = collection.mark.as_deref().and_then(mark_kind);
    let accepts: Vec<ItemKind> = match &collection.kind {
        CollectionKind::Calendar { components } => [ItemKind::Events, ItemKind::Tasks, ItemKind::Journals]
            .into_iter()
            .filter(|kind| components.iter().any(|c| Some(c.as_str()) == kind.component()))
            .collect(),
        CollectionKind::AddressBook => vec![ItemKind::Contacts],
    };
    let kind = match &collection.kind {
        // A mark counts within its family: a calendar mark on a calendar, ADDR on an address book.
        CollectionKind::Calendar { .. } if marked.is_some_and(|k| k != ItemKind::Contacts) => marked?,
        _ => *accepts.first()?,
    };
    let mut id = canonical_path(collection.url.path());
    if !id.ends_with('/') {
        id.push('/');
    }
    Some(CollectionInfo {
        id,
        kind,
        accepts,
        display_name: collection.display_name,
        agap_mark: collection.mark,
        version: collection.ctag.or(collection.sync_token),
    })
}

/// iCalendar or vCard text carried in XML, with its CRLF line ends back: an XML parser turns
/// CRLF into LF (XML 1.0 2.11) unless the server escaped the CR, and both formats end every
/// content line with CRLF (RFC 5545 3.1, RFC 6350 3.2), so a bare LF is always a line end.
fn content_lines(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// The canonical path of a member `href` the server named in an answer about `collection`;
/// `None`, logged, when it lies outside (another origin or path). Such an href is left out rather
/// than failing the whole answer: one bad entry should not hide the good ones, and what is left
/// out never reaches the core, so nothing is ever read, written or deleted there.
fn member_href(answered: &Url, collection: &str, href: &str) -> AdapterResult<Option<String>> {
    let found = inside(answered, collection, href)?;
    if found.is_none() {
        tracing::warn!(collection, href = ?href, "the server named a member outside the collection; ignored");
    }
    Ok(found)
}

fn is_success(status: Option<u16>) -> bool {
    status.is_none_or(|s| (200..300).contains(&s))
}

/// Whether a failed query REPORT is worth answering by listing everything instead.
fn report_fallback(status: StatusCode) -> bool {
    status.is_server_error()
        || matches!(
            status,
            StatusCode::BAD_REQUEST
                | StatusCode::FORBIDDEN
                | StatusCode::METHOD_NOT_ALLOWED
                | StatusCode::UNSUPPORTED_MEDIA_TYPE
                | StatusCode::UNPROCESSABLE_ENTITY
        )
}

/// The preconditions by which a server refuses a second resource with an item's UID: RFC 4791
/// 5.3.2.1 and RFC 6352 6.3.2.1 `no-uid-conflict` (within the target collection), RFC 6638
/// 3.2.4.1 `unique-scheduling-object-resource` (within the user's calendars; Cyrus asks it of
/// every event). Each may name the resource that holds the UID.
const UID_CONDITIONS: [&str; 2] = ["no-uid-conflict", "unique-scheduling-object-resource"];

/// The error of a write into `collection` (a canonical collection path) that `reply` refused:
/// for a UID already in use, `AlreadyExists` when the resource holding it is in `collection`,
/// `UidInUse` when it is elsewhere (a copy then needs a UID of its own); otherwise as
/// [`Reply::error`].
fn write_refused(reply: &Reply, collection: &str) -> AdapterError {
    let Some(body) = reply.dav_error() else { return reply.error() };
    let Some(condition) = body.condition.as_deref().filter(|condition| UID_CONDITIONS.contains(condition)) else {
        return reply.error();
    };
    let elsewhere = match &body.href {
        Some(href) => matches!(inside(&reply.url, collection, href), Ok(None)),
        // Unnamed: each condition in the scope its RFC gives it.
        None => condition == "unique-scheduling-object-resource",
    };
    let kind = if elsewhere { AdapterErrorKind::UidInUse } else { AdapterErrorKind::AlreadyExists };
    reply.error_of_kind(Some(kind))
}

/// The collection (canonical, ending in '/') a canonical member path lies in.
fn parent_collection(href: &str) -> &str {
    href.rfind('/').map_or(href, |slash| &href[..=slash])
}

/// Held while a collection is made, renamed or removed: when it goes, on every way out, the
/// user's cached listing goes too, so that the next listing (of any of the user's sessions)
/// shows what the server did, whatever it answered.
struct ListingChange<'a>(&'a DavAccount);

impl Drop for ListingChange<'_> {
    fn drop(&mut self) {
        self.0.forget_listing();
    }
}

impl DavAccount {
    /// The client of this account.
    pub fn client(&self) -> &DavClient {
        &self.client
    }

    /// The homes, discovered on first use: the CalDAV context first, then the CardDAV one
    /// when the first did not name an address book home (the two may live apart).
    pub async fn homes(&self) -> AdapterResult<&AccountHomes> {
        self.homes
            .get_or_try_init(|| async {
                if let Some(principal) = &self.principal {
                    let found = self.client.homes_of(principal.clone()).await?;
                    return Ok(AccountHomes { calendar: found.calendar_home, addressbook: found.addressbook_home });
                }
                if let Some(known) = self.cache.as_ref().and_then(|cache| cache.homes(self.client.user())) {
                    return Ok(known);
                }
                let mut homes = AccountHomes { calendar: None, addressbook: None };
                let mut last_error = None;
                for context in ["caldav", "carddav"] {
                    if homes.calendar.is_some() && homes.addressbook.is_some() {
                        break;
                    }
                    match self.client.discover(&self.base, context).await {
                        Ok(found) => {
                            homes.calendar = homes.calendar.or(found.calendar_home);
                            homes.addressbook = homes.addressbook.or(found.addressbook_home);
                        }
                        Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => return Err(error),
                        Err(error) => last_error = Some(error),
                    }
                }
                if homes.calendar.is_none() && homes.addressbook.is_none() {
                    return Err(last_error.unwrap_or_else(|| {
                        AdapterError::new(
                            AdapterErrorKind::NotFound,
                            "the server names no calendar or address book home",
                        )
                    }));
                }
                if let Some(cache) = &self.cache {
                    cache.remember_homes(self.client.user(), homes.clone());
                }
                Ok(homes)
            })
            .await
    }

    fn url(&self, path: &str) -> AdapterResult<Url> {
        url_of(&self.base, path)
    }

    /// The item refs of a multistatus: members only (not the collection, not sub-collections),
    /// sorted by href. Hrefs outside `collection` are left out with a warning (see
    /// [`member_href`]).
    fn members(&self, answered: &Url, collection: &str, responses: &[PropResponse]) -> AdapterResult<Vec<ItemRef>> {
        let mut items = Vec::new();
        for response in responses {
            if !is_success(response.status) {
                continue;
            }
            let Some(href) = member_href(answered, collection, &response.href)? else { continue };
            let is_collection =
                response.prop(DAV, "resourcetype").is_some_and(|types| types.child(DAV, "collection").is_some());
            if href == collection || href.ends_with('/') || is_collection {
                continue;
            }
            items.push(ItemRef { href, etag: response.text(DAV, "getetag") });
        }
        items.sort();
        items.dedup();
        Ok(items)
    }

    /// The ETag of one resource (PROPFIND Depth 0), for servers that send none on writes.
    async fn etag_of(&self, href: &str) -> AdapterResult<Option<String>> {
        let (_, responses) = self.client.propfind(&self.url(href)?, "0", "<D:getetag/>").await?;
        Ok(responses.first().and_then(|r| r.text(DAV, "getetag")))
    }

    /// Sends a query REPORT; `None` when the server could not answer it (logged), so that the
    /// caller lists everything instead.
    async fn query_report(&self, collection: &str, body: String) -> AdapterResult<Option<Vec<ItemRef>>> {
        let url = self.url(collection)?;
        let reply = self.client.send_xml("REPORT", &url, Some("1"), body).await?;
        if reply.status != StatusCode::MULTI_STATUS {
            if report_fallback(reply.status) {
                tracing::warn!(collection, status = %reply.status, "the server failed a query report; listing every item");
                return Ok(None);
            }
            return Err(reply.error());
        }
        match parse_multistatus(&reply.text()) {
            Ok(responses) => Ok(Some(self.members(&reply.url, &normalize_collection(&url, "")?, &responses)?)),
            Err(error) => {
                tracing::warn!(collection, %error, "a malformed query report answer; listing every item");
                Ok(None)
            }
        }
    }

    /// One multiget of `hrefs` (canonical paths inside `collection`). Only the hrefs asked for
    /// are taken from the answer; an item body over the item limit is left out, logged.
    async fn fetch_batch(
        &self,
        url: &Url,
        collection: &str,
        kind: ItemKind,
        hrefs: &[String],
    ) -> AdapterResult<Vec<ItemData>> {
        let reply = self.client.send_xml("REPORT", url, None, requests::multiget(kind, hrefs)?).await?;
        if reply.status != StatusCode::MULTI_STATUS {
            return Err(reply.error());
        }
        let responses = parse_multistatus(&reply.text()).map_err(protocol)?;
        let (namespace, data) = match kind {
            ItemKind::Contacts => (CARDDAV, "address-data"),
            _ => (CALDAV, "calendar-data"),
        };
        let mut items = Vec::new();
        for response in responses {
            if !is_success(response.status) {
                continue;
            }
            let Some(body) = response.prop(namespace, data) else { continue };
            let Some(href) = member_href(&reply.url, collection, &response.href)? else { continue };
            if !hrefs.contains(&href) {
                tracing::warn!(collection, href = ?response.href, "the server answered a multiget with an href not asked for; ignored");
                continue;
            }
            let limit = self.client.limits().item;
            if body.text.len() > limit {
                tracing::warn!(href, limit, "an item larger than the gateway's limit; left out");
                continue;
            }
            items.push(ItemData {
                item: ItemRef { href, etag: response.text(DAV, "getetag") },
                body: content_lines(&body.text),
            });
        }
        Ok(items)
    }

    /// The ETag a write answered with, or else the one the server reports now.
    async fn written(&self, href: String, reply: &Reply) -> AdapterResult<ItemRef> {
        let etag = match &reply.etag {
            Some(etag) => Some(etag.clone()),
            None => self.etag_of(&href).await?,
        };
        Ok(ItemRef { href, etag })
    }

    /// PROPPATCH of the display name and (when given) the mark; the properties that failed,
    /// with their statuses (RFC 4918 9.2.1).
    async fn proppatch(
        &self,
        url: &Url,
        display_name: &str,
        mark: Option<&str>,
    ) -> AdapterResult<Vec<(u16, crate::multistatus::Node)>> {
        let reply = self.client.send_xml("PROPPATCH", url, None, requests::proppatch(display_name, mark)?).await?;
        match reply.status {
            StatusCode::MULTI_STATUS => {
                let mut failed = Vec::new();
                for response in parse_multistatus(&reply.text()).map_err(protocol)? {
                    if let Some(status) = response.status.filter(|s| !(200..300).contains(s)) {
                        return Err(refused(StatusCode::from_u16(status).map_err(protocol)?, url));
                    }
                    failed.extend(response.failed);
                }
                Ok(failed)
            }
            status if status.is_success() => Ok(Vec::new()),
            _ => Err(reply.error()),
        }
    }

    /// Removes a collection that could not be made as asked, so that none is left behind; a
    /// failure is logged (the caller reports the first error).
    async fn discard(&self, url: &Url) {
        if let Err(error) = self.delete_collection(url.path()).await {
            tracing::warn!(collection = url.path(), %error, "could not remove a collection left half-made");
        }
    }

    /// COPY or MOVE (RFC 4918 9.8, 9.9) without overwriting; GET, PUT and (for MOVE) DELETE
    /// where the server offers neither or refuses the destination. A UID the server will not
    /// have twice is `AlreadyExists` when the target holds it, `UidInUse` when another
    /// collection does (see [`write_refused`]).
    async fn transfer(&self, method: &str, href: &str, kind: ItemKind, to_collection: &str) -> AdapterResult<ItemRef> {
        let source = normalize(&self.base, href)?;
        let target = format!("{}{}", normalize_collection(&self.base, to_collection)?, last_segment(&source));
        let mut destination = self.url(&target)?;
        let _ = destination.set_username("");
        let _ = destination.set_password(None);
        let headers = [("Destination", destination.to_string()), ("Overwrite", "F".to_owned())];
        let reply = self.client.send(method, &self.url(&source)?, &headers, None).await?;
        match reply.status {
            status if status.is_success() => self.written(target, &reply).await,
            StatusCode::PRECONDITION_FAILED => {
                Err(AdapterError::new(AdapterErrorKind::AlreadyExists, format!("{target} already exists")))
            }
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED | StatusCode::BAD_GATEWAY => {
                let item = self
                    .get_item(&source, kind)
                    .await?
                    .ok_or_else(|| AdapterError::new(AdapterErrorKind::NotFound, format!("{source} does not exist")))?;
                let copied = self.put_item(&target, kind, &item.body, &Precondition::Absent).await?;
                if method == "MOVE" {
                    match self.delete_item(&source, item.item.etag.as_deref()).await {
                        Ok(_) => {}
                        // 412: the source changed after it was read and is still there, so the
                        // copy is stale: undo it, report the conflict.
                        Err(error) if error.kind() == AdapterErrorKind::Conflict => {
                            if let Err(undo) = self.delete_item(&copied.href, copied.etag.as_deref()).await {
                                tracing::warn!(copy = copied.href, %undo, "could not remove the copy of a changed item");
                            }
                            return Err(error);
                        }
                        // Anything else (a lost answer, a timeout, a 5xx) may have deleted the
                        // source all the same: deleting the copy could lose the item for good,
                        // while a duplicate can be cleaned up. Keep both and say so.
                        Err(error) => {
                            tracing::warn!(source, copy = copied.href, %error, "move: the source could not be deleted; the copy remains");
                            return Err(AdapterError::new(
                                error.kind(),
                                format!(
                                    "{} (moving {source}: the copy {} may remain beside the source)",
                                    error.reason(),
                                    copied.href
                                ),
                            ));
                        }
                    }
                }
                Ok(copied)
            }
            _ => Err(write_refused(&reply, parent_collection(&target))),
        }
    }
}

#[async_trait]
impl CollectionAccount for DavAccount {
    async fn list_collections(&self) -> AdapterResult<Vec<CollectionInfo>> {
        if let Some(known) = self.cache.as_ref().and_then(|cache| cache.listing(&self.credentials)) {
            return Ok(known.as_ref().clone());
        }
        let homes = self.homes().await?;
        let mut found = Vec::new();
        let mut seen = Vec::new();
        for home in [&homes.calendar, &homes.addressbook].into_iter().flatten() {
            if seen.contains(&home) {
                continue;
            }
            seen.push(home);
            let collections = self.client.collections(home).await.inspect_err(|error| {
                // The home moved (or the cached one is stale): the next login discovers anew.
                if error.kind() == AdapterErrorKind::NotFound
                    && let Some(cache) = &self.cache
                {
                    cache.forget_homes(self.client.user());
                }
            })?;
            found.extend(collections.into_iter().filter_map(collection_info));
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.dedup_by(|a, b| a.id == b.id);
        if let Some(cache) = &self.cache {
            cache.remember_listing(&self.credentials, Arc::new(found.clone()));
        }
        Ok(found)
    }

    fn forget_listing(&self) {
        if let Some(cache) = &self.cache {
            cache.forget_listing(self.client.user());
        }
    }

    async fn create_collection(&self, kind: ItemKind, mark: &str, display_name: &str) -> AdapterResult<CollectionInfo> {
        let _changing = ListingChange(self);
        let homes = self.homes().await?;
        let home = match kind {
            ItemKind::Contacts => homes.addressbook.as_ref(),
            _ => homes.calendar.as_ref(),
        }
        .ok_or_else(|| AdapterError::unsupported("creating this kind of collection"))?;
        let mut url = home.clone();
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let url = url.join(&format!("{:016x}/", rand::random::<u64>())).map_err(protocol)?;
        let create = |mark: Option<&str>| -> AdapterResult<(&'static str, String)> {
            Ok(match kind.component() {
                Some(component) => ("MKCALENDAR", requests::mkcalendar(component, display_name, mark)?),
                None => ("MKCOL", requests::mkcol_addressbook(display_name, mark)?),
            })
        };
        let (method, body) = create(Some(mark))?;
        let reply = self.client.send_xml(method, &url, None, body).await?;
        if !reply.status.is_success() {
            // RFC 4791 5.3.1.1, RFC 5689 3: a refused property fails the whole request; try
            // without the dead property, then set it apart.
            if !matches!(reply.status.as_u16(), 400 | 403 | 409 | 415 | 422 | 424 | 507) {
                return Err(reply.error());
            }
            tracing::debug!(status = %reply.status, "the server refused the mark in {method}; creating without it");
            let (method, body) = create(None)?;
            let reply = self.client.send_xml(method, &url, None, body).await?;
            if !reply.status.is_success() {
                return Err(reply.error());
            }
            // A refused mark is no reason to remove the collection: the caller keeps the mark
            // elsewhere. Anything else failing is.
            if let Err(error) = self.set_mark(url.path(), mark, display_name).await {
                self.discard(&url).await;
                return Err(error);
            }
        }
        // Read back what the server made of it: whether it kept the mark (servers without dead
        // properties answer 2xx and drop it) and which components the calendar accepts.
        let made = match self.client.collection(&url).await {
            Ok(Some(collection)) => {
                collection_info(collection).ok_or_else(|| protocol("the new calendar accepts no known component"))
            }
            Ok(None) => Err(protocol("the new collection is no calendar or address book")),
            Err(error) => Err(error),
        };
        if made.is_err() {
            self.discard(&url).await;
        }
        made
    }

    async fn set_mark(&self, collection: &str, mark: &str, display_name: &str) -> AdapterResult<MarkOutcome> {
        let _changing = ListingChange(self);
        let url = self.url(collection)?;
        let failed = self.proppatch(&url, display_name, Some(mark)).await?;
        // RFC 4918 9.2: every property or none is set, the others failing with 424; some servers
        // set what they can. A refused mark alone is an answer (the server keeps no such
        // property), and the display name is then set on its own if it was held back.
        let refused_elsewhere = failed.iter().find(|(status, prop)| *status != 424 && !prop.is(AGAP, "folder"));
        if let Some((status, prop)) = refused_elsewhere {
            let error = refused(StatusCode::from_u16(*status).map_err(protocol)?, &url);
            return Err(AdapterError::new(error.kind(), format!("{} (setting {})", error.reason(), prop.name)));
        }
        if failed.iter().any(|(_, prop)| prop.is(DAV, "displayname")) {
            let failed = self.proppatch(&url, display_name, None).await?;
            if let Some((status, prop)) = failed.first() {
                let error = refused(StatusCode::from_u16(*status).map_err(protocol)?, &url);
                return Err(AdapterError::new(error.kind(), format!("{} (setting {})", error.reason(), prop.name)));
            }
        }
        let kept = self.client.collection(&url).await?.and_then(|found| found.mark);
        Ok(if kept.as_deref() == Some(mark) { MarkOutcome::Kept } else { MarkOutcome::NotKept })
    }

    async fn delete_collection(&self, collection: &str) -> AdapterResult<()> {
        let _changing = ListingChange(self);
        let url = self.url(&normalize_collection(&self.base, collection)?)?;
        let reply = self.client.send("DELETE", &url, &[], None).await?;
        match reply.status {
            // RFC 4918 9.6.1: a multistatus names members that could not be deleted.
            StatusCode::MULTI_STATUS => Err(AdapterError::new(
                AdapterErrorKind::Refused,
                format!("{} could only be deleted in part", url.path()),
            )),
            status if status.is_success() => Ok(()),
            _ => Err(reply.error()),
        }
    }

    async fn list_items(&self, collection: &str, kind: ItemKind) -> AdapterResult<Vec<ItemRef>> {
        let path = normalize_collection(&self.base, collection)?;
        let url = self.url(&path)?;
        match kind.component() {
            Some(component) => {
                let reply =
                    self.client.send_xml("REPORT", &url, Some("1"), requests::calendar_query(component, "")).await?;
                if reply.status != StatusCode::MULTI_STATUS {
                    return Err(reply.error());
                }
                let responses = parse_multistatus(&reply.text()).map_err(protocol)?;
                self.members(&reply.url, &path, &responses)
            }
            None => {
                let (answered, responses) = self.client.propfind(&url, "1", "<D:getetag/><D:resourcetype/>").await?;
                self.members(&answered, &path, &responses)
            }
        }
    }

    async fn query_items(&self, collection: &str, kind: ItemKind, query: &Query) -> AdapterResult<FoundItems> {
        let path = normalize_collection(&self.base, collection)?;
        let body = match kind.component() {
            Some(component) => query::calendar_filter(query, kind).map(|f| requests::calendar_query(component, &f)),
            None => query::addressbook_filter(query).map(|f| requests::addressbook_query(&f)),
        };
        let exact = *query == Query::All;
        if let Some(body) = body
            && let Some(items) = self.query_report(&path, body).await?
        {
            return Ok(FoundItems { items, exact });
        }
        Ok(FoundItems { items: self.list_items(&path, kind).await?, exact })
    }

    async fn fetch_items(&self, collection: &str, kind: ItemKind, hrefs: &[String]) -> AdapterResult<Vec<ItemData>> {
        let path = normalize_collection(&self.base, collection)?;
        let url = self.url(&path)?;
        let hrefs = hrefs.iter().map(|href| normalize(&self.base, href)).collect::<AdapterResult<Vec<_>>>()?;
        let mut items = Vec::new();
        // A batch whose answer passes the listing bound is split in halves; a single item that
        // still does is read by GET under the item bound, and left out (logged) past it.
        let mut pending: Vec<&[String]> = hrefs.chunks(MULTIGET_BATCH).rev().collect();
        while let Some(batch) = pending.pop() {
            match self.fetch_batch(&url, &path, kind, batch).await {
                Ok(found) => items.extend(found),
                Err(error) if error.kind() == AdapterErrorKind::TooLarge && batch.len() > 1 => {
                    let (first, second) = batch.split_at(batch.len() / 2);
                    pending.push(second);
                    pending.push(first);
                }
                Err(error) if error.kind() == AdapterErrorKind::TooLarge => {
                    match self.get_item(&batch[0], kind).await {
                        Ok(found) => items.extend(found),
                        Err(error) if error.kind() == AdapterErrorKind::TooLarge => {
                            tracing::warn!(href = batch[0], %error, "an item larger than the gateway's limit; left out");
                        }
                        Err(error) => return Err(error),
                    }
                }
                Err(error) => return Err(error),
            }
        }
        Ok(items)
    }

    async fn get_item(&self, href: &str, kind: ItemKind) -> AdapterResult<Option<ItemData>> {
        let href = normalize(&self.base, href)?;
        let accept = match kind {
            ItemKind::Contacts => "text/vcard",
            _ => "text/calendar",
        };
        let reply = self
            .client
            .send_bounded("GET", &self.url(&href)?, &[("Accept", accept.to_owned())], None, Bound::Item)
            .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(ItemData { item: ItemRef { href, etag: reply.etag }, body: reply.body })),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
            _ => Err(reply.error()),
        }
    }

    async fn put_item(
        &self,
        href: &str,
        kind: ItemKind,
        body: &[u8],
        precondition: &Precondition,
    ) -> AdapterResult<ItemRef> {
        let href = normalize(&self.base, href)?;
        let mut headers = vec![("Content-Type", kind.media_type().to_owned())];
        match precondition {
            Precondition::Absent => headers.push(("If-None-Match", "*".to_owned())),
            Precondition::Unchanged(etag) => headers.push(("If-Match", etag.clone())),
            Precondition::Any => {}
        }
        let reply = self.client.send("PUT", &self.url(&href)?, &headers, Some(body.to_vec())).await?;
        match reply.status {
            status if status.is_success() => self.written(href, &reply).await,
            StatusCode::PRECONDITION_FAILED => Err(match precondition {
                Precondition::Absent => {
                    AdapterError::new(AdapterErrorKind::AlreadyExists, format!("{href} already exists"))
                }
                _ => AdapterError::new(AdapterErrorKind::Conflict, format!("{href} changed meanwhile")),
            }),
            _ => Err(write_refused(&reply, parent_collection(&href))),
        }
    }

    async fn delete_item(&self, href: &str, etag: Option<&str>) -> AdapterResult<bool> {
        let href = normalize(&self.base, href)?;
        let headers: Vec<_> = etag.map(|etag| ("If-Match", etag.to_owned())).into_iter().collect();
        let reply = self.client.send("DELETE", &self.url(&href)?, &headers, None).await?;
        match reply.status {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(false),
            StatusCode::PRECONDITION_FAILED => {
                Err(AdapterError::new(AdapterErrorKind::Conflict, format!("{href} changed meanwhile")))
            }
            _ => Err(reply.error()),
        }
    }

    async fn copy_item(&self, href: &str, kind: ItemKind, to_collection: &str) -> AdapterResult<ItemRef> {
        self.transfer("COPY", href, kind, to_collection).await
    }

    async fn move_item(&self, href: &str, kind: ItemKind, to_collection: &str) -> AdapterResult<ItemRef> {
        self.transfer("MOVE", href, kind, to_collection).await
    }

    async fn current_sync_token(&self, collection: &str) -> AdapterResult<Option<String>> {
        let path = normalize_collection(&self.base, collection)?;
        let (_, responses) = self.client.propfind(&self.url(&path)?, "0", "<D:sync-token/>").await?;
        let token = responses.iter().find_map(|response| response.text(DAV, "sync-token"));
        Ok(token.filter(|token| !token.is_empty() && token.len() <= MAX_SYNC_TOKEN))
    }

    async fn sync_changes(&self, collection: &str, token: Option<&str>) -> AdapterResult<Option<SyncChanges>> {
        let path = normalize_collection(&self.base, collection)?;
        let url = self.url(&path)?;
        let mut token = token.map(str::to_owned);
        // Latest state per href: Some(etag) changed, None removed.
        let mut changes: BTreeMap<String, Option<Option<String>>> = BTreeMap::new();
        for page in 0..MAX_SYNC_PAGES {
            let body = requests::sync_collection(token.as_deref())?;
            let reply = self.client.send_xml("REPORT", &url, Some("0"), body).await?;
            match reply.status {
                StatusCode::MULTI_STATUS => {}
                StatusCode::FORBIDDEN | StatusCode::CONFLICT
                    if reply.condition().as_deref() == Some("valid-sync-token") =>
                {
                    return Ok(None);
                }
                StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => {
                    return Ok(None);
                }
                // A token the server cannot take should be 403 valid-sync-token (RFC 6578 3.2);
                // some fail on it instead (Xandikos 0.2.8: 500). Starting over with a full sync
                // is right either way: if the server is down, that fails in its turn.
                status if status.is_server_error() && page == 0 && token.is_some() => {
                    tracing::warn!(collection = path, %status, "the server failed a sync from a token; starting a full sync");
                    return Ok(None);
                }
                _ => return Err(reply.error()),
            }
            let document = parse_multistatus_document(&reply.text()).map_err(protocol)?;
            let mut truncated = false;
            for response in &document.responses {
                let Some(href) = member_href(&reply.url, &path, &response.href)? else { continue };
                if href == path || href.trim_end_matches('/') == path.trim_end_matches('/') {
                    truncated |= response.status == Some(507);
                    continue;
                }
                if href.ends_with('/') {
                    continue;
                }
                match response.status {
                    Some(404) => {
                        changes.insert(href, None);
                    }
                    status if is_success(status) && !response.props.is_empty() => {
                        changes.insert(href, Some(response.text(DAV, "getetag")));
                    }
                    _ => {}
                }
            }
            let next = document.sync_token.ok_or_else(|| protocol("a sync-collection answer without a sync-token"))?;
            if next.len() > MAX_SYNC_TOKEN {
                tracing::warn!(
                    collection = path,
                    bytes = next.len(),
                    "the server's sync-token is too long to keep; listing instead"
                );
                return Ok(None);
            }
            token = Some(next);
            if !truncated {
                let mut changed = Vec::new();
                let mut removed = Vec::new();
                for (href, change) in changes {
                    match change {
                        Some(etag) => changed.push(ItemRef { href, etag }),
                        None => removed.push(href),
                    }
                }
                return Ok(Some(SyncChanges { token: token.unwrap_or_default(), changed, removed }));
            }
        }
        Err(protocol(format!("{path}: more than {MAX_SYNC_PAGES} pages of changes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer, discovery, etag_response, multistatus, serve};

    fn account_on(base: Url) -> Arc<DavAccount> {
        DavBackend::new(base).account(&Credentials::new("alice", "s3cret")).expect("account")
    }

    fn answer(status: u16, body: &str) -> Answer {
        (status, Vec::new(), body.to_owned())
    }

    #[test]
    fn multiget_data_gets_its_crlf_back() {
        assert_eq!(content_lines("BEGIN:VCARD\nFN:a\r\nEND:VCARD\n"), b"BEGIN:VCARD\r\nFN:a\r\nEND:VCARD\r\n");
    }

    #[tokio::test]
    async fn a_failing_query_report_falls_back_to_listing() {
        let (base, log) = serve(|request| match request.method.as_str() {
            "REPORT" if request.body.contains("time-range") => answer(500, "Internal Server Error"),
            "REPORT" => answer(
                207,
                &multistatus(&format!(
                    "{}{}{}{}",
                    etag_response("/cal/", "c"),
                    // A full URL on the same origin counts; one on another origin does not.
                    etag_response(&format!("http://{}/cal/b%40x.ics", request.header("host").unwrap_or_default()), "2"),
                    etag_response("http://127.0.0.1/cal/other-origin.ics", "3"),
                    etag_response("/cal/a.ics", "1")
                )),
            ),
            _ => answer(405, ""),
        })
        .await;
        let account = account_on(base);
        let query = Query::TimeRange { start: Some("20240101T000000Z".into()), end: None };
        let found = account.query_items("/cal/", ItemKind::Events, &query).await.expect("a fallback");
        assert!(!found.exact);
        let hrefs: Vec<_> = found.items.iter().map(|i| i.href.as_str()).collect();
        assert_eq!(hrefs, ["/cal/a.ics", "/cal/b@x.ics"]);
        let log = log.lock().expect("log");
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].header("depth"), Some("1"));
        assert!(log[0].header("authorization").is_some_and(|a| a.starts_with("Basic ")));
    }

    #[tokio::test]
    async fn a_sync_token_the_server_fails_on_means_a_full_sync() {
        // Xandikos 0.2.8 answers an unknown token with 500 rather than 403 valid-sync-token.
        let (base, log) = serve(|_| answer(500, "AssertionError")).await;
        let account = account_on(base);
        assert_eq!(account.sync_changes("/cal/", Some("http://x.invalid/sync/nope")).await.expect("a full sync"), None);
        // Without a token there is nothing to start over from: the failure is the server's.
        let error = account.sync_changes("/cal/", None).await.expect_err("down");
        assert_eq!(error.kind(), AdapterErrorKind::Unavailable, "{error:?}");
        assert_eq!(log.lock().expect("log").len(), 2);
    }

    #[tokio::test]
    async fn a_sync_token_too_long_to_keep_is_taken_as_none() {
        let huge = "x".repeat(MAX_SYNC_TOKEN + 1);
        let body = multistatus(&format!(
            r#"<D:response><D:href>/cal/</D:href><D:propstat><D:prop><D:sync-token>{huge}</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:sync-token>{huge}</D:sync-token>"#
        ));
        let (base, _) = serve(move |_| answer(207, &body)).await;
        let account = account_on(base);
        assert_eq!(account.current_sync_token("/cal/").await.expect("read"), None);
        assert_eq!(
            account.sync_changes("/cal/", None).await.expect("answered"),
            None,
            "the collection is listed instead"
        );
    }

    #[tokio::test]
    async fn writes_map_statuses_to_error_kinds() {
        let (base, log) = serve(|request| match (request.method.as_str(), request.path.as_str()) {
            ("PUT", "/cal/exists.ics") => answer(412, ""),
            ("PUT", "/cal/bad.ics") => answer(
                403,
                r#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:valid-calendar-data/></D:error>"#,
            ),
            ("PUT", _) => answer(201, ""),
            ("PROPFIND", _) => answer(207, &multistatus(&etag_response(&request.path, "after"))),
            ("DELETE", "/cal/gone.ics") => answer(404, ""),
            ("DELETE", _) => answer(412, ""),
            ("PROPPATCH", _) => answer(
                207,
                &multistatus(
                    r#"<D:response><D:href>/cal/</D:href><D:propstat><D:prop><A:folder xmlns:A="http://agap-gateway.invalid/ns/"/></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat></D:response>"#,
                ),
            ),
            ("REPORT", _) => answer(403, r#"<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#),
            _ => answer(500, ""),
        })
        .await;
        let account = account_on(base);
        let body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
        let error = account.put_item("/cal/exists.ics", ItemKind::Events, body, &Precondition::Absent).await;
        assert_eq!(error.expect_err("exists").kind(), AdapterErrorKind::AlreadyExists);
        let error =
            account.put_item("/cal/exists.ics", ItemKind::Events, body, &Precondition::Unchanged("\"1\"".into())).await;
        assert_eq!(error.expect_err("changed").kind(), AdapterErrorKind::Conflict);
        let error =
            account.put_item("/cal/bad.ics", ItemKind::Events, body, &Precondition::Any).await.expect_err("bad");
        assert_eq!(error.kind(), AdapterErrorKind::Refused);
        assert!(error.reason().contains("valid-calendar-data"), "{error:?}");
        // No ETag on the PUT answer: it is read by PROPFIND.
        let written = account.put_item("/cal/new.ics", ItemKind::Events, body, &Precondition::Absent).await;
        assert_eq!(written.expect("put").etag.as_deref(), Some("\"after\""));
        assert!(!account.delete_item("/cal/gone.ics", None).await.expect("gone"));
        let error = account.delete_item("/cal/x.ics", Some("\"1\"")).await.expect_err("changed");
        assert_eq!(error.kind(), AdapterErrorKind::Conflict);
        // The mark alone refused inside the 207: not kept, and no error.
        assert_eq!(account.set_mark("/cal/", "CALE /x", "x").await.expect("set_mark"), MarkOutcome::NotKept);
        assert_eq!(account.sync_changes("/cal/", Some("old")).await.expect("sync"), None);

        let log = log.lock().expect("log");
        let puts: Vec<_> = log.iter().filter(|r| r.method == "PUT").collect();
        assert_eq!(puts[0].header("if-none-match"), Some("*"));
        assert_eq!(puts[1].header("if-match"), Some("\"1\""));
        assert_eq!(puts[0].header("content-type"), Some("text/calendar; charset=utf-8"));
        assert!(log.iter().all(|r| !r.body.contains("s3cret")));
    }

    /// A COPY the server refuses as Cyrus 3.6 does (405, "Can not copy resources within same
    /// user"), whose GET and PUT stand-in the PUT answers with the DAV:error of `condition`.
    async fn copy_with_put_refused(condition: &str) -> AdapterError {
        let put_error =
            format!(r#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{condition}</D:error>"#);
        let (base, _) = serve(move |request| match request.method.as_str() {
            "COPY" => answer(
                405,
                r#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:no-uid-conflict/><D:responsedescription>Can not copy resources within same user</D:responsedescription></D:error>"#,
            ),
            "GET" => (200, vec![("ETag", "\"src\"".to_owned())], "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_owned()),
            "PUT" => answer(403, &put_error),
            _ => answer(500, ""),
        })
        .await;
        account_on(base).copy_item("/cal/one/a.ics", ItemKind::Events, "/cal/two/").await.expect_err("refused")
    }

    #[tokio::test]
    async fn a_uid_the_server_keeps_unique_beyond_the_target_is_told_apart_from_one_in_it() {
        let cases = [
            (
                "<C:unique-scheduling-object-resource><D:href>/cal/one/a.ics</D:href></C:unique-scheduling-object-resource>",
                AdapterErrorKind::UidInUse,
                "in another collection",
            ),
            (
                "<C:no-uid-conflict><D:href>http://127.0.0.1/cal/two/b.ics</D:href></C:no-uid-conflict>",
                AdapterErrorKind::UidInUse,
                "another origin is not the target",
            ),
            (
                "<C:no-uid-conflict><D:href>/cal/two/b.ics</D:href></C:no-uid-conflict>",
                AdapterErrorKind::AlreadyExists,
                "in the target",
            ),
            // Unnamed, each in its RFC's scope: the collection, the user.
            ("<C:no-uid-conflict/>", AdapterErrorKind::AlreadyExists, "unnamed, the collection's"),
            ("<C:unique-scheduling-object-resource/>", AdapterErrorKind::UidInUse, "unnamed, the user's"),
            ("<C:valid-calendar-data/>", AdapterErrorKind::Refused, "not about UIDs"),
        ];
        for (condition, kind, case) in cases {
            let error = copy_with_put_refused(condition).await;
            assert_eq!(error.kind(), kind, "{case}: {error:?}");
        }
        let error = copy_with_put_refused("<C:unique-scheduling-object-resource/>").await;
        assert!(error.reason().contains("unique-scheduling-object-resource"), "the condition is told: {error:?}");
    }

    #[tokio::test]
    async fn another_accounts_collections_are_found_through_its_principal_on_the_same_origin() {
        let (base, log) = serve(|request| match request.method.as_str() {
            "PROPFIND" if request.path == "/principals/b%2Fob/" => answer(
                207,
                &multistatus(
                    r#"<D:response><D:href>/principals/b%2Fob/</D:href><D:propstat><D:prop><C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><D:href>/cal/bob/</D:href></C:calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#,
                ),
            ),
            "PROPFIND" => answer(207, &multistatus("")),
            _ => answer(500, ""),
        })
        .await;
        let backend = DavBackend::new(base);
        let service = Credentials::new("service", "s3cret");
        let account = backend.open_other(&service, "/principals/{user}/", "b/ob").await.expect("account");
        assert!(account.list_collections().await.expect("listed").is_empty());
        let paths: Vec<String> = log.lock().expect("log").iter().map(|request| request.path.clone()).collect();
        assert_eq!(paths[0], "/principals/b%2Fob/", "the user is one segment; no current-user-principal asked");
        assert_eq!(paths[1], "/cal/bob/");
        // A template that leads elsewhere never gets the service account's credentials.
        let elsewhere = backend.open_other(&service, "http://127.0.0.2:9/{user}/", "bob").await.expect("handle");
        let error = elsewhere.list_collections().await.expect_err("refused");
        assert!(error.reason().contains("refused to send credentials"), "{error}");
    }

    #[tokio::test]
    async fn homes_are_discovered_once_per_user_until_a_home_answers_404() {
        let home_gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone = Arc::clone(&home_gone);
        let (base, log) = serve(move |request| match discovery(request) {
            Some(found) => found,
            None if request.method == "PROPFIND" && gone.load(std::sync::atomic::Ordering::SeqCst) => answer(404, ""),
            None if request.method == "PROPFIND" => answer(207, &multistatus("")),
            None => answer(500, ""),
        })
        .await;
        let backend = DavBackend::new(base);
        let discoveries = || {
            log.lock().expect("log").iter().filter(|request| request.body.contains("current-user-principal")).count()
        };
        let login = |user: &str| backend.account(&Credentials::new(user, "s3cret")).expect("account");
        login("alice").list_collections().await.expect("first login");
        let after_first = discoveries();
        assert!(after_first >= 1);
        login("alice").list_collections().await.expect("second login");
        assert_eq!(discoveries(), after_first, "the second login of alice asks for no principal");
        login("bob").list_collections().await.expect("another user");
        assert!(discoveries() > after_first, "bob's homes are his own");
        let before_move = discoveries();
        home_gone.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(login("alice").list_collections().await.map_err(|e| e.kind()), Err(AdapterErrorKind::NotFound));
        home_gone.store(false, std::sync::atomic::Ordering::SeqCst);
        login("alice").list_collections().await.expect("after the move");
        assert!(discoveries() > before_move, "a home that answered 404 is discovered anew");
    }

    #[tokio::test]
    async fn a_listing_is_shared_by_the_users_logins_until_a_collection_changes_through_the_backend() {
        let calendar = r#"<D:response><D:href>/cal/work/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar xmlns:C="urn:ietf:params:xml:ns:caldav"/></D:resourcetype><C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#;
        let (base, log) = serve(move |request| match discovery(request) {
            Some(found) => found,
            None if request.method == "PROPFIND" => answer(207, &multistatus(calendar)),
            None if request.method == "PROPPATCH" => answer(207, &multistatus("")),
            None => answer(500, ""),
        })
        .await;
        let backend = DavBackend::new(base).with_listing_cache(Duration::from_secs(600));
        let listings =
            || log.lock().expect("log").iter().filter(|request| request.header("depth") == Some("1")).count();
        let login = |password: &str| backend.account(&Credentials::new("alice", password)).expect("account");
        let first = login("s3cret").list_collections().await.expect("listed");
        assert_eq!(first.len(), 1, "{first:?}");
        assert_eq!(listings(), 1);
        assert_eq!(login("s3cret").list_collections().await.expect("listed again"), first);
        assert_eq!(listings(), 1, "another login of alice reuses the listing");
        login("wrong").list_collections().await.expect("the mock takes any password");
        assert_eq!(listings(), 2, "other credentials never see it");
        let session = login("s3cret");
        session.list_collections().await.expect("listed");
        let before = listings();
        session.set_mark("/cal/work/", "CALE /Work", "Work").await.expect("renamed");
        session.list_collections().await.expect("listed after the rename");
        assert!(listings() > before, "a rename through the backend drops the listing");
        let before = listings();
        session.forget_listing();
        login("s3cret").list_collections().await.expect("listed");
        assert_eq!(listings(), before + 1, "and so does forget_listing, for every session");
    }

    #[tokio::test]
    async fn copy_falls_back_to_get_and_put() {
        let (base, log) = serve(|request| match request.method.as_str() {
            "COPY" => answer(502, ""),
            "GET" => (200, vec![("ETag", "\"src\"".to_owned())], "BEGIN:VCARD\r\nEND:VCARD\r\n".to_owned()),
            "PUT" => (201, vec![("ETag", "\"new\"".to_owned())], String::new()),
            _ => answer(500, ""),
        })
        .await;
        let account = account_on(base);
        let copied = account.copy_item("/book/a%20b.vcf", ItemKind::Contacts, "/other").await.expect("copy");
        assert_eq!(copied, ItemRef { href: "/other/a%20b.vcf".into(), etag: Some("\"new\"".into()) });
        let log = log.lock().expect("log");
        assert_eq!(log[0].header("destination").map(|d| d.ends_with("/other/a%20b.vcf")), Some(true));
        assert_eq!(log[0].header("overwrite"), Some("F"));
        assert_eq!(log[1].header("accept"), Some("text/vcard"));
        assert_eq!((log[2].method.as_str(), log[2].header("if-none-match")), ("PUT", Some("*")));
    }

    #[tokio::test]
    async fn a_refused_mark_is_set_after_creation() {
        let ok = |props: &str| {
            multistatus(&format!(
                r#"<D:response><D:href>/p/</D:href><D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
            ))
        };
        let (base, log) = serve(move |request| match request.method.as_str() {
            "PROPFIND" if request.body.contains("current-user-principal") => {
                answer(207, &ok("<D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>"))
            }
            "PROPFIND" if request.body.contains("calendar-home-set") => answer(
                207,
                &ok(r#"<C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><D:href>/cal/</D:href></C:calendar-home-set>
                    <R:addressbook-home-set xmlns:R="urn:ietf:params:xml:ns:carddav"><D:href>/book/</D:href></R:addressbook-home-set>"#),
            ),
            "PROPFIND" => answer(
                207,
                &multistatus(&format!(
                    r#"<D:response><D:href>{}</D:href><D:propstat><D:prop xmlns:C="urn:ietf:params:xml:ns:caldav">
                    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Tasks</D:displayname>
                    <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
                    <A:folder xmlns:A="http://agap-gateway.invalid/ns/">TASK /Tasks</A:folder><D:sync-token>t1</D:sync-token>
                    </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#,
                    request.path
                )),
            ),
            "MKCALENDAR" if request.body.contains("A:folder") => answer(403, ""),
            "MKCALENDAR" => answer(201, ""),
            "PROPPATCH" => answer(207, &ok(r#"<A:folder xmlns:A="http://agap-gateway.invalid/ns/"/><D:displayname/>"#)),
            _ => answer(500, ""),
        })
        .await;
        let account = account_on(base);
        let info = account.create_collection(ItemKind::Tasks, "TASK /Tasks", "Tasks").await.expect("create");
        assert!(
            info.id.starts_with("/cal/") && info.id.ends_with('/') && info.id.len() == "/cal/".len() + 17,
            "{info:?}"
        );
        assert_eq!(info.kind, ItemKind::Tasks);
        assert_eq!(info.agap_mark.as_deref(), Some("TASK /Tasks"));
        assert_eq!(info.version.as_deref(), Some("t1"));
        let log = log.lock().expect("log");
        let methods: Vec<_> = log.iter().map(|r| r.method.as_str()).collect();
        // The second PROPFIND reads the mark back after the PROPPATCH, the third the collection.
        assert_eq!(methods, ["PROPFIND", "PROPFIND", "MKCALENDAR", "MKCALENDAR", "PROPPATCH", "PROPFIND", "PROPFIND"]);
        assert!(log[0].path.starts_with("/.well-known/caldav"));
        assert!(log[3].body.contains(r#"<C:comp name="VTODO"/>"#) && !log[3].body.contains("folder"));
    }

    /// A home at /cal/ whose collections answer PROPFIND with `collection` (the props of a
    /// calendar accepting every component, without the gateway's mark), `proppatch` to
    /// PROPPATCH and `read_back` to a Depth 0 PROPFIND of the new collection.
    async fn server_without_dead_properties(
        proppatch: &'static str,
        read_back: u16,
    ) -> (Url, Arc<std::sync::Mutex<Vec<crate::mock::Request>>>) {
        let ok = |props: &str| {
            multistatus(&format!(
                r#"<D:response><D:href>/p/</D:href><D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
            ))
        };
        serve(move |request| match request.method.as_str() {
            "PROPFIND" if request.body.contains("current-user-principal") => {
                answer(207, &ok("<D:current-user-principal><D:href>/p/</D:href></D:current-user-principal>"))
            }
            "PROPFIND" if request.body.contains("calendar-home-set") => answer(
                207,
                &ok(r#"<C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><D:href>/cal/</D:href></C:calendar-home-set>"#),
            ),
            "PROPFIND" if read_back != 207 => answer(read_back, ""),
            "PROPFIND" => answer(
                207,
                &multistatus(&format!(
                    r#"<D:response><D:href>{}</D:href><D:propstat><D:prop xmlns:C="urn:ietf:params:xml:ns:caldav">
                    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Tasks</D:displayname>
                    <C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/><C:comp name="VFREEBUSY"/></C:supported-calendar-component-set>
                    </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><A:folder xmlns:A="http://agap-gateway.invalid/ns/"/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>"#,
                    request.path
                )),
            ),
            // Created, the unknown property dropped (the answer's propstat says 404).
            "MKCALENDAR" => answer(201, ""),
            "PROPPATCH" if request.body.contains("A:folder") => answer(
                207,
                &multistatus(&format!(r#"<D:response><D:href>{}</D:href>{proppatch}</D:response>"#, request.path)),
            ),
            "PROPPATCH" => answer(
                207,
                &multistatus(&format!(
                    r#"<D:response><D:href>{}</D:href><D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#,
                    request.path
                )),
            ),
            "DELETE" => answer(204, ""),
            _ => answer(500, ""),
        })
        .await
    }

    const MARK_404_NAME_SET: &str = r#"<D:propstat><D:prop><A:folder xmlns:A="http://agap-gateway.invalid/ns/"/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat><D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"#;
    const MARK_403_NAME_HELD: &str = r#"<D:propstat><D:prop><A:folder xmlns:A="http://agap-gateway.invalid/ns/"/></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat><D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 424 Failed Dependency</D:status></D:propstat>"#;

    #[tokio::test]
    async fn a_mark_the_server_drops_is_reported_not_kept_and_the_collection_stays() {
        let (base, log) = server_without_dead_properties(MARK_404_NAME_SET, 207).await;
        let account = account_on(base);
        let info = account.create_collection(ItemKind::Tasks, "TASK /Tasks", "Tasks").await.expect("create");
        assert_eq!(info.agap_mark, None, "read back: not kept");
        assert_eq!(info.accepts, [ItemKind::Events, ItemKind::Tasks, ItemKind::Journals], "the component set ignored");
        assert_eq!(info.kind, ItemKind::Events);
        // Renaming: the mark refused, the display name set in the same (non-atomic) PROPPATCH.
        assert_eq!(account.set_mark(&info.id, "TASK /Done", "Done").await.expect("set_mark"), MarkOutcome::NotKept);
        let log = log.lock().expect("log");
        // After discovery: one MKCALENDAR and its read-back, no second attempt and no DELETE.
        let methods: Vec<_> = log.iter().map(|r| r.method.as_str()).skip_while(|m| *m != "MKCALENDAR").collect();
        assert_eq!(methods, ["MKCALENDAR", "PROPFIND", "PROPPATCH", "PROPFIND"]);
    }

    #[tokio::test]
    async fn a_refused_mark_on_an_atomic_server_still_sets_the_display_name() {
        let (base, log) = server_without_dead_properties(MARK_403_NAME_HELD, 207).await;
        let account = account_on(base);
        assert_eq!(account.set_mark("/cal/x/", "CALE /Y", "Y").await.expect("set_mark"), MarkOutcome::NotKept);
        let log = log.lock().expect("log");
        let patches: Vec<_> = log.iter().filter(|r| r.method == "PROPPATCH").collect();
        assert_eq!(patches.len(), 2, "{log:?}");
        assert!(patches[1].body.contains("<D:displayname>Y</D:displayname>") && !patches[1].body.contains("folder"));
    }

    #[tokio::test]
    async fn a_collection_that_cannot_be_read_back_is_removed() {
        let (base, log) = server_without_dead_properties(MARK_404_NAME_SET, 500).await;
        let account = account_on(base);
        let error = account.create_collection(ItemKind::Events, "CALE /X", "X").await.expect_err("no read-back");
        assert_eq!(error.kind(), AdapterErrorKind::Unavailable, "{error:?}");
        let log = log.lock().expect("log");
        let made = log.iter().find(|r| r.method == "MKCALENDAR").map(|r| r.path.clone()).expect("made");
        let deleted: Vec<_> = log.iter().filter(|r| r.method == "DELETE").map(|r| r.path.clone()).collect();
        assert_eq!(deleted, [made], "never left behind");
    }

    /// A MOVE the server does not offer, so that GET, PUT and DELETE stand in; the DELETE of the
    /// source answers `delete_status`.
    async fn move_with_delete_answering(delete_status: u16) -> (AdapterError, Vec<(String, String)>) {
        let (base, log) = serve(move |request| match (request.method.as_str(), request.path.as_str()) {
            ("MOVE", _) => answer(501, ""),
            ("GET", _) => (200, vec![("ETag", "\"src\"".to_owned())], "BEGIN:VCARD\r\nEND:VCARD\r\n".to_owned()),
            ("PUT", _) => (201, vec![("ETag", "\"new\"".to_owned())], String::new()),
            ("DELETE", "/book/a.vcf") => answer(delete_status, ""),
            ("DELETE", _) => answer(204, ""),
            _ => answer(500, ""),
        })
        .await;
        let account = account_on(base);
        let error = account.move_item("/book/a.vcf", ItemKind::Contacts, "/other/").await.expect_err("failed");
        let log = log.lock().expect("log");
        (error, log.iter().map(|r| (r.method.clone(), r.path.clone())).collect())
    }

    #[tokio::test]
    async fn the_move_fallback_undoes_the_copy_only_on_a_precondition_failure() {
        let (error, requests) = move_with_delete_answering(412).await;
        assert_eq!(error.kind(), AdapterErrorKind::Conflict, "{error:?}");
        assert_eq!(requests.last().map(|(m, p)| (m.as_str(), p.as_str())), Some(("DELETE", "/other/a.vcf")));

        // A server error may have deleted the source all the same: the copy stays, and the
        // error says so.
        let (error, requests) = move_with_delete_answering(500).await;
        assert_eq!(error.kind(), AdapterErrorKind::Unavailable, "{error:?}");
        assert!(error.reason().contains("/other/a.vcf may remain"), "{error:?}");
        let deletes: Vec<_> = requests.iter().filter(|(m, _)| m == "DELETE").map(|(_, p)| p.as_str()).collect();
        assert_eq!(deletes, ["/book/a.vcf"], "the copy is never deleted");
    }

    #[tokio::test]
    async fn the_move_fallback_keeps_the_copy_when_the_answer_is_lost() {
        // The DELETE reaches the server, which then drops the connection without an answer.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = Url::parse(&format!("http://{}/", listener.local_addr().expect("address"))).expect("url");
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = log.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut byte = [0];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = stream.read_exact(&mut body).await;
                let line = head.lines().next().unwrap_or_default().to_owned();
                seen.lock().expect("log").push(line.clone());
                let answer: &[u8] = match line.split_whitespace().next() {
                    Some("MOVE") => b"HTTP/1.1 501 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    Some("GET") => b"HTTP/1.1 200 OK\r\nETag: \"src\"\r\nContent-Length: 24\r\nConnection: close\r\n\r\nBEGIN:VCARD\r\nEND:VCARD\r\n",
                    Some("PUT") => b"HTTP/1.1 201 X\r\nETag: \"new\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    _ => b"",
                };
                let _ = stream.write_all(answer).await;
            }
        });
        let account = account_on(base);
        let error = account.move_item("/book/a.vcf", ItemKind::Contacts, "/other/").await.expect_err("lost");
        assert!(error.reason().contains("may remain"), "{error:?}");
        let log = log.lock().expect("log");
        let deletes: Vec<_> = log.iter().filter(|l| l.starts_with("DELETE")).collect();
        assert_eq!(deletes.len(), 1, "only the source was asked to go: {log:?}");
        assert!(deletes[0].starts_with("DELETE /book/a.vcf"), "{log:?}");
    }

    #[tokio::test]
    async fn member_hrefs_outside_the_collection_are_never_used() {
        let outside = [
            "/other/x.vcf",
            "/book/../other/y.vcf",
            "/book/%2e%2e/other/z.vcf",
            "http://evil.example/book/w.vcf",
            "/bookish/v.vcf",
        ];
        let (base, log) = serve(move |request| {
            let mut entries: Vec<String> = outside.iter().map(|href| etag_response(href, "o")).collect();
            match request.method.as_str() {
                "PROPFIND" => {
                    entries.push(etag_response("/book/in.vcf", "i"));
                    answer(207, &multistatus(&entries.concat()))
                }
                "REPORT" if request.body.contains("sync-collection") => {
                    entries.push(etag_response("/book/in.vcf", "i"));
                    entries.push(r#"<D:response><D:href>/other/gone.vcf</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"#.into());
                    let body = multistatus(&entries.concat());
                    answer(207, &body.replace("</D:multistatus>", "<D:sync-token>t2</D:sync-token></D:multistatus>"))
                }
                "REPORT" => {
                    let data = |href: &str| {
                        format!(
                            r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>"e"</D:getetag><R:address-data xmlns:R="urn:ietf:params:xml:ns:carddav">BEGIN:VCARD&#13;
END:VCARD&#13;
</R:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
                        )
                    };
                    let mut body: Vec<String> = outside.iter().map(|href| data(href)).collect();
                    body.push(data("/book/in.vcf"));
                    body.push(data("/book/not-asked.vcf"));
                    answer(207, &multistatus(&body.concat()))
                }
                _ => answer(500, ""),
            }
        })
        .await;
        let account = account_on(base);
        let listed = account.list_items("/book/", ItemKind::Contacts).await.expect("list");
        assert_eq!(listed.iter().map(|i| i.href.as_str()).collect::<Vec<_>>(), ["/book/in.vcf"]);
        let changes = account.sync_changes("/book/", Some("t1")).await.expect("sync").expect("changes");
        assert_eq!(changes.changed.iter().map(|i| i.href.as_str()).collect::<Vec<_>>(), ["/book/in.vcf"]);
        assert!(changes.removed.is_empty(), "{changes:?}");
        let fetched = account.fetch_items("/book/", ItemKind::Contacts, &["/book/in.vcf".into()]).await.expect("get");
        assert_eq!(fetched.iter().map(|i| i.item.href.as_str()).collect::<Vec<_>>(), ["/book/in.vcf"]);
        let log = log.lock().expect("log");
        assert_eq!(log.len(), 3, "no request to any href the server named");
    }

    #[tokio::test]
    async fn multigets_past_the_listing_bound_are_split_and_big_items_left_out() {
        // Items of 5 MiB with a listing bound of 4 MiB and an item bound of 1 MiB: batches are
        // split down to one, a single one is read by GET under the item bound and left out.
        let big = "x".repeat(5 << 20);
        let mid = "x".repeat(2 << 20);
        let (base, log) = serve(move |request| match request.method.as_str() {
            "REPORT" => {
                let hrefs: Vec<&str> =
                    request.body.split("<D:href>").skip(1).filter_map(|part| part.split("</D:href>").next()).collect();
                let entries: Vec<String> = hrefs
                    .iter()
                    .map(|href| {
                        let text = match *href {
                            "/book/small.vcf" => "BEGIN:VCARD",
                            "/book/mid.vcf" => mid.as_str(),
                            _ => big.as_str(),
                        };
                        format!(
                            r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><R:address-data xmlns:R="urn:ietf:params:xml:ns:carddav">{text}</R:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
                        )
                    })
                    .collect();
                answer(207, &multistatus(&entries.concat()))
            }
            "GET" => answer(200, &big),
            _ => answer(500, ""),
        })
        .await;
        let backend = DavBackend::new(base);
        let backend = DavBackend { limits: BodyLimits { item: 1 << 20, listing: 4 << 20 }, ..backend };
        let account = backend.account(&Credentials::new("alice", "s3cret")).expect("account");
        let hrefs = ["/book/a.vcf", "/book/small.vcf", "/book/b.vcf"].map(str::to_owned);
        let fetched = account.fetch_items("/book/", ItemKind::Contacts, &hrefs).await.expect("fetch");
        assert_eq!(fetched.iter().map(|i| i.item.href.as_str()).collect::<Vec<_>>(), ["/book/small.vcf"]);
        let methods: Vec<_> = log.lock().expect("log").iter().map(|r| r.method.clone()).collect();
        // [a, small, b] too large -> [a] too large -> GET a too large; [small, b] too large ->
        // [small] fine; [b] too large -> GET b too large.
        assert_eq!(methods, ["REPORT", "REPORT", "GET", "REPORT", "REPORT", "REPORT", "GET"]);
        // Within the listing bound but over the item bound: left out of the multiget's answer.
        let fetched =
            account.fetch_items("/book/", ItemKind::Contacts, &["/book/mid.vcf".into()]).await.expect("fetch");
        assert!(fetched.is_empty());
    }
}
