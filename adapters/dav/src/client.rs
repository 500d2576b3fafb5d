//! HTTP side of the WebDAV client: authenticated PROPFIND with redirects followed by hand
//! (reqwest turns a redirected PROPFIND into a GET), discovery and collection listing.
//!
//! The client is bound to one origin (scheme, host, port): every request, whether its URL came
//! from the configuration, a redirect or an href the server sent, is checked against it before
//! it is built, so the account's credentials never leave that origin (and https never turns
//! into http). Answers are read with a running count against a bound and never past it.

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use reqwest::{Method, StatusCode, header};
use url::Url;

use crate::href::{inside, normalize_collection};
use crate::multistatus::{
    AGAP, CALDAV, CALENDARSERVER, CARDDAV, DAV, DavError, PropResponse, dav_error, error_condition, parse_multistatus,
};

/// Redirects followed for one request (RFC 6764 6: /.well-known answers with one).
const MAX_REDIRECTS: usize = 5;

/// Where a user's data lives, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Homes {
    pub principal: Url,
    pub calendar_home: Option<Url>,
    pub addressbook_home: Option<Url>,
}

/// What a collection holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionKind {
    /// A CalDAV calendar and the components it accepts (VEVENT, VTODO, VJOURNAL; all when the
    /// server does not say, RFC 4791 5.2.3).
    Calendar {
        components: Vec<String>,
    },
    AddressBook,
}

/// One calendar or address book collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub url: Url,
    pub display_name: Option<String>,
    pub kind: CollectionKind,
    /// The calendarserver.org CTag, where offered: changes whenever the content does.
    pub ctag: Option<String>,
    /// The RFC 6578 sync-token, where offered.
    pub sync_token: Option<String>,
    /// The gateway's mark, the dead property `{http://agap-gateway.invalid/ns/}folder`.
    pub mark: Option<String>,
}

/// How much of an answer the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// One item's body (a GET, a calendar-data or address-data in a multiget): the gateway's
    /// `[mail] max_item_size`.
    pub item: usize,
    /// Any other answer (PROPFIND and REPORT listings, multigets, error bodies): a listing names
    /// many items and a multiget carries several bodies, escaped, so it gets more room than one
    /// item (see [`BodyLimits::for_item_size`]).
    pub listing: usize,
}

/// The least room for a listing, whatever the item limit: about 60,000 members with their ETags.
pub const MIN_LISTING: usize = 16 << 20;

impl BodyLimits {
    /// The limits for an item limit of `item` bytes: listings may hold twice that (a multiget
    /// answer carrying the largest item the gateway accepts, XML-escaped, still fits in most
    /// cases; a bigger one is split, see `fetch_items`), and never less than [`MIN_LISTING`].
    pub fn for_item_size(item: usize) -> Self {
        BodyLimits { item, listing: item.saturating_mul(2).max(MIN_LISTING) }
    }
}

impl Default for BodyLimits {
    /// The gateway's default `[mail] max_item_size` (25 MiB).
    fn default() -> Self {
        Self::for_item_size(25 << 20)
    }
}

/// Which bound an answer is read under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Item,
    Listing,
    /// A bound the caller chose (a file read under the core's size limit).
    Bytes(usize),
}

/// HTTP requests sent by every DAV client of this process, redirects followed included.
static REQUESTS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many HTTP requests this process has sent to DAV servers so far (for benchmarks and
/// metrics: what a command costs upstream).
pub fn requests_sent() -> u64 {
    REQUESTS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}

/// A WebDAV client for one account (HTTP Basic on every request, kept-alive connections of a
/// possibly shared `reqwest::Client`), bound to the origin of the server it was made for.
#[derive(Clone)]
pub struct DavClient {
    http: reqwest::Client,
    origin: url::Origin,
    limits: BodyLimits,
    user: String,
    password: String,
}

impl std::fmt::Debug for DavClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DavClient")
            .field("origin", &self.origin.ascii_serialization())
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// `url` as shown in errors and logs: without user information, query or fragment.
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// One HTTP answer, read whole (bounded by the client's [`BodyLimits`]).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub status: StatusCode,
    /// A strong ETag header, when the server sent one.
    pub etag: Option<String>,
    /// A weak ETag header (`W/"..."`), when the server sent one instead: it names the version
    /// but cannot guard a write (RFC 9110 13.1.1 compares If-Match strongly).
    pub weak_etag: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text, borrowed when it is valid UTF-8 (an answer is not copied to be parsed).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The error this answer stands for, with the DAV precondition it names and the server's
    /// explanation, if any: `/cal/x.ics answered 403 Forbidden (valid-calendar-data: DTEND must
    /// occur after DTSTART)`.
    pub fn error(&self) -> AdapterError {
        self.error_of_kind(None)
    }

    /// As [`Reply::error`], of `kind` when given rather than the status's.
    pub fn error_of_kind(&self, kind: Option<AdapterErrorKind>) -> AdapterError {
        let error = refused(self.status, &self.url);
        let kind = kind.unwrap_or(error.kind());
        let said = self.dav_error().map(|body| {
            let condition = body.condition.map(|condition| shown_text(&condition, MAX_SHOWN_CONDITION));
            let description = body.description.map(|description| shown_text(&description, MAX_SHOWN_DESCRIPTION));
            [condition, description].into_iter().flatten().filter(|text| !text.is_empty()).collect::<Vec<_>>()
        });
        match said {
            Some(said) if !said.is_empty() => {
                AdapterError::new(kind, format!("{} ({})", error.reason(), said.join(": ")))
            }
            _ => AdapterError::new(kind, error.reason()),
        }
    }

    /// The DAV precondition the body names (RFC 4918 16), if any.
    pub fn condition(&self) -> Option<String> {
        error_condition(&self.text())
    }

    /// The DAV:error body, if the answer is one.
    pub fn dav_error(&self) -> Option<DavError> {
        dav_error(&self.text())
    }
}

/// The longest precondition name shown (the RFCs' longest is 33 characters).
const MAX_SHOWN_CONDITION: usize = 64;
/// The longest explanation of a server shown: enough for a sentence, never a page.
const MAX_SHOWN_DESCRIPTION: usize = 200;

/// `text` from a server made fit for a reply line: control and bidirectional formatting
/// characters become spaces, runs of white space one space, and past `max` characters it is cut
/// (marked with "..."). A server's words are hostile input like any other.
pub(crate) fn shown_text(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { ' ' } else { c }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    let cut: String = joined.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", cut.trim_end())
}

/// Maps an HTTP status to the adapter's error kinds.
pub(crate) fn refused(status: StatusCode, url: &Url) -> AdapterError {
    let kind = match status {
        StatusCode::UNAUTHORIZED => AdapterErrorKind::AuthenticationFailed,
        StatusCode::NOT_FOUND | StatusCode::GONE => AdapterErrorKind::NotFound,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => AdapterErrorKind::Unsupported,
        StatusCode::PRECONDITION_FAILED => AdapterErrorKind::Conflict,
        status if status.is_server_error() => AdapterErrorKind::Unavailable,
        _ => AdapterErrorKind::Refused,
    };
    AdapterError::new(kind, format!("{} answered {status}", url.path()))
}

pub(crate) fn protocol(reason: impl std::fmt::Display) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Protocol, reason.to_string())
}

/// The prefixes every request body of this crate binds.
pub(crate) const NAMESPACES: &str = concat!(
    r#"xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav" "#,
    r#"xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://agap-gateway.invalid/ns/""#
);

/// The properties read of a collection.
pub(crate) const COLLECTION_PROPS: &str = "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>\
    <CS:getctag/><D:sync-token/><A:folder/>";

/// Builds the HTTP client: no automatic redirects (they are followed by hand for safe methods
/// only), no proxy from the environment, bounded waits, connections kept alive; https through rustls, verifying certificates
/// against the system's store.
pub fn http_client() -> AdapterResult<reqwest::Client> {
    build_http_client(None)
}

/// As [`http_client`], with https verified as `tls` says (its roots: a private CA, say).
pub fn http_client_with_tls(tls: &rustls::ClientConfig) -> AdapterResult<reqwest::Client> {
    let mut tls = tls.clone();
    // reqwest takes a preconfigured rustls configuration as it is: offer what it speaks.
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    build_http_client(Some(tls))
}

fn build_http_client(tls: Option<rustls::ClientConfig>) -> AdapterResult<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Requests carry the users' credentials: an HTTP(S)_PROXY in the gateway's environment
        // must not receive them (an http proxy would even see them in clear). The gateway talks
        // to the configured origin directly.
        .no_proxy()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(120))
        .pool_idle_timeout(std::time::Duration::from_secs(60));
    let builder = match tls {
        Some(tls) => builder.tls_backend_preconfigured(tls),
        None => builder.tls_backend_rustls(),
    };
    builder.build().map_err(|e| AdapterError::new(AdapterErrorKind::Unavailable, format!("HTTP client: {e}")))
}

impl DavClient {
    /// A client of the server at `server` (only its origin counts) with a connection pool of
    /// its own and the default [`BodyLimits`].
    pub fn new(server: &Url, user: &str, password: &str) -> AdapterResult<Self> {
        Ok(Self::with_http(http_client()?, server, BodyLimits::default(), user, password))
    }

    /// A client sharing the connection pool of `http`, which must come from [`http_client`]: a
    /// client following redirects itself would escape the origin check.
    pub(crate) fn with_http(
        http: reqwest::Client,
        server: &Url,
        limits: BodyLimits,
        user: &str,
        password: &str,
    ) -> Self {
        DavClient { http, origin: server.origin(), limits, user: user.to_owned(), password: password.to_owned() }
    }

    /// The bounds answers are read under.
    pub fn limits(&self) -> BodyLimits {
        self.limits
    }

    /// Refuses any URL outside the client's origin (scheme, host and port): the one check every
    /// request passes before it is built with the credentials. An https origin never reaches
    /// http, not even on the same host, since the scheme is part of the origin.
    pub(crate) fn check_origin(&self, url: &Url) -> AdapterResult<()> {
        if url.origin() == self.origin {
            return Ok(());
        }
        let downgrade = if self.origin.ascii_serialization().starts_with("https:") && url.scheme() == "http" {
            " (a downgrade from https to http)"
        } else {
            ""
        };
        Err(protocol(format!(
            "refused to send credentials to {}{downgrade}: not the configured server {}",
            shown(url),
            self.origin.ascii_serialization()
        )))
    }

    /// The account name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Sends one request and reads the whole answer under the listing bound. Redirects within
    /// the origin are followed for the methods that only read (PROPFIND, REPORT, GET), never for
    /// writes; one leaving it is an error naming it.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> AdapterResult<Reply> {
        self.send_bounded(method, url, headers, body, Bound::Listing).await
    }

    /// As [`DavClient::send`], reading the answer under `bound`: past it the answer is dropped
    /// unread (its connection closed) and the error is `TooLarge`.
    pub(crate) async fn send_bounded(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
        bound: Bound,
    ) -> AdapterResult<Reply> {
        let method = Method::from_bytes(method.as_bytes()).map_err(protocol)?;
        let follows = matches!(method.as_str(), "PROPFIND" | "REPORT" | "GET" | "HEAD" | "OPTIONS");
        let wanted = match bound {
            Bound::Item => self.limits.item,
            Bound::Listing => self.limits.listing,
            Bound::Bytes(limit) => limit,
        };
        let mut target = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.check_origin(&target)?;
            let mut request =
                self.http.request(method.clone(), target.clone()).basic_auth(&self.user, Some(&self.password));
            for (name, value) in headers {
                request = request.header(*name, value.as_str());
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let unavailable = |e: reqwest::Error| {
                AdapterError::new(AdapterErrorKind::Unavailable, format!("{}: {}", url.path(), e.without_url()))
            };
            REQUESTS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut response = request.send().await.map_err(unavailable)?;
            let status = response.status();
            if follows && status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| protocol("a redirect without Location"))?;
                target = target.join(location).map_err(protocol)?;
                continue;
            }
            let header_etag = response.headers().get(header::ETAG).and_then(|e| e.to_str().ok()).map(str::trim);
            let etag = header_etag.filter(|e| e.starts_with('"')).map(str::to_owned);
            let weak_etag = header_etag.filter(|e| e.starts_with("W/\"")).map(str::to_owned);
            // The caller's bound is for what it asked for; an error's body only explains the
            // error (an HTML page, a DAV:error) and is read under the listing bound, so that a
            // small item limit never turns a 404 into "too large".
            let (limit, bound) =
                if status.is_success() { (wanted, bound) } else { (self.limits.listing, Bound::Listing) };
            let too_large = || {
                let what = match bound {
                    Bound::Item => "item",
                    Bound::Bytes(_) => "file",
                    Bound::Listing => "answer",
                };
                AdapterError::new(
                    AdapterErrorKind::TooLarge,
                    format!("{}: the {what} is larger than the gateway's limit of {limit} bytes", target.path()),
                )
            };
            if response.content_length().is_some_and(|length| length > limit as u64) {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Reply { url: target, status, etag, weak_etag, body });
        }
        Err(protocol(format!("more than {MAX_REDIRECTS} redirects from {}", url.path())))
    }

    /// Sends an XML body (a REPORT, PROPPATCH, MKCALENDAR, ...) with an optional Depth.
    pub(crate) async fn send_xml(
        &self,
        method: &str,
        url: &Url,
        depth: Option<&str>,
        body: String,
    ) -> AdapterResult<Reply> {
        let mut headers = vec![("Content-Type", "application/xml; charset=utf-8".to_owned())];
        if let Some(depth) = depth {
            headers.push(("Depth", depth.to_owned()));
        }
        self.send(method, url, &headers, Some(body.into_bytes())).await
    }

    /// PROPFIND `url` with `depth` ("0" or "1") for the properties in `props` (inner XML of
    /// DAV:prop, with prefixes D, C, CR, CS and A bound); redirects are followed.
    pub async fn propfind(&self, url: &Url, depth: &str, props: &str) -> AdapterResult<(Url, Vec<PropResponse>)> {
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><D:propfind {NAMESPACES}><D:prop>{props}</D:prop></D:propfind>"#
        );
        let reply = self.send_xml("PROPFIND", url, Some(depth), body).await?;
        if reply.status != StatusCode::MULTI_STATUS {
            return Err(reply.error());
        }
        let responses = parse_multistatus(&reply.text()).map_err(protocol)?;
        Ok((reply.url, responses))
    }

    /// Finds the principal and its homes from the server's root URL: the /.well-known context
    /// path first (RFC 6764 5), the URL itself otherwise.
    pub async fn discover(&self, base: &Url, well_known: &str) -> AdapterResult<Homes> {
        let candidates = [base.join(&format!("/.well-known/{well_known}")).map_err(protocol)?, base.clone()];
        let mut last_error = None;
        let mut principal = None;
        for candidate in candidates {
            match self.propfind(&candidate, "0", "<D:current-user-principal/>").await {
                Ok((answered, responses)) => {
                    if let Some(href) = responses.iter().find_map(|r| r.href_in(DAV, "current-user-principal")) {
                        let url = answered.join(&href).map_err(protocol)?;
                        self.check_origin(&url)?;
                        principal = Some(url);
                        break;
                    }
                }
                Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => return Err(error),
                Err(error) => last_error = Some(error),
            }
        }
        let principal = principal
            .ok_or_else(|| last_error.unwrap_or_else(|| protocol("the server reports no current-user-principal")))?;
        self.homes_of(principal).await
    }

    /// The homes named by the principal at `principal` (RFC 4791 6.2.1, RFC 6352 7.1.1).
    pub async fn homes_of(&self, principal: Url) -> AdapterResult<Homes> {
        self.check_origin(&principal)?;
        let (answered, responses) =
            self.propfind(&principal, "0", "<C:calendar-home-set/><CR:addressbook-home-set/>").await?;
        let home = |namespace, name| -> AdapterResult<Option<Url>> {
            match responses.iter().find_map(|r| r.href_in(namespace, name)) {
                Some(href) => {
                    let url = answered.join(&href).map_err(protocol)?;
                    self.check_origin(&url)?;
                    Ok(Some(url))
                }
                None => Ok(None),
            }
        };
        Ok(Homes {
            calendar_home: home(CALDAV, "calendar-home-set")?,
            addressbook_home: home(CARDDAV, "addressbook-home-set")?,
            principal,
        })
    }

    /// The calendars and address books directly inside `home`. Members the server names
    /// outside `home` (another origin, another path) are left out with a warning: one bad href
    /// should not hide the good ones, and the one left out is never acted on.
    pub async fn collections(&self, home: &Url) -> AdapterResult<Vec<Collection>> {
        let home_path = normalize_collection(home, "")?;
        let (answered, responses) = self.propfind(home, "1", COLLECTION_PROPS).await?;
        let mut collections = Vec::new();
        for response in responses {
            let Some(path) = inside(&answered, &home_path, &response.href)? else {
                tracing::warn!(home = %home_path, href = ?response.href, "the server named a collection outside the home; ignored");
                continue;
            };
            if path.trim_end_matches('/') == home_path.trim_end_matches('/') {
                continue;
            }
            let url = answered.join(&path).map_err(protocol)?;
            collections.extend(collection_from(url, &response));
        }
        Ok(collections)
    }

    /// The collection at `url` itself (PROPFIND Depth 0); `None` when it is neither a calendar
    /// nor an address book. An answer about another resource is an error.
    pub async fn collection(&self, url: &Url) -> AdapterResult<Option<Collection>> {
        let path = normalize_collection(url, "")?;
        let (answered, responses) = self.propfind(url, "0", COLLECTION_PROPS).await?;
        let Some(response) = responses.first() else { return Ok(None) };
        match inside(&answered, &path, &response.href)? {
            Some(found) if found.trim_end_matches('/') == path.trim_end_matches('/') => {
                Ok(collection_from(answered.join(&path).map_err(protocol)?, response))
            }
            _ => Err(protocol(format!("{path}: the server answered about {:?}", response.href))),
        }
    }
}

/// A calendar or address book from its PROPFIND response.
fn collection_from(url: Url, response: &PropResponse) -> Option<Collection> {
    let types = response.prop(DAV, "resourcetype")?;
    let kind = if types.child(CALDAV, "calendar").is_some() {
        let components: Vec<String> = response
            .prop(CALDAV, "supported-calendar-component-set")
            .map(|set| set.children_named(CALDAV, "comp").filter_map(comp_name).collect())
            .unwrap_or_default();
        let components = if components.is_empty() {
            ["VEVENT", "VTODO", "VJOURNAL"].map(str::to_owned).to_vec()
        } else {
            components
        };
        CollectionKind::Calendar { components }
    } else if types.child(CARDDAV, "addressbook").is_some() {
        CollectionKind::AddressBook
    } else {
        return None;
    };
    Some(Collection {
        url,
        display_name: response.text(DAV, "displayname"),
        kind,
        ctag: response.text(CALENDARSERVER, "getctag"),
        sync_token: response.text(DAV, "sync-token"),
        mark: response.text(AGAP, "folder"),
    })
}

/// The component a CALDAV:comp element names (RFC 4791 9.6.1).
fn comp_name(comp: &crate::multistatus::Node) -> Option<String> {
    comp.attribute("name").map(str::to_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Answer, multistatus, serve, serve_endless};

    fn answer(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Answer {
        (status, headers, body.to_owned())
    }

    fn client_of(server: &Url, limits: BodyLimits) -> DavClient {
        DavClient::with_http(http_client().expect("http"), server, limits, "alice", "s3cret")
    }

    fn principal(href: &str) -> String {
        multistatus(&format!(
            r#"<D:response><D:href>/</D:href><D:propstat><D:prop><D:current-user-principal><D:href>{href}</D:href></D:current-user-principal></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
        ))
    }

    #[tokio::test]
    async fn a_redirect_to_another_origin_is_refused_before_credentials_go() {
        let (elsewhere, elsewhere_log) = serve(|_| answer(207, Vec::new(), &principal("/p/"))).await;
        let target = elsewhere.join("/stolen/").expect("url").to_string();
        let (base, log) = serve(move |_| answer(301, vec![("Location", target.clone())], "")).await;
        let client = client_of(&base, BodyLimits::default());
        let error = client.propfind(&base, "0", "<D:current-user-principal/>").await.expect_err("refused");
        assert_eq!(error.kind(), AdapterErrorKind::Protocol, "{error:?}");
        assert!(error.reason().contains(&format!("127.0.0.1:{}", elsewhere.port().expect("port"))), "{error:?}");
        assert!(elsewhere_log.lock().expect("log").is_empty(), "nothing reached the other origin");
        assert_eq!(log.lock().expect("log").len(), 1);
    }

    #[tokio::test]
    async fn same_origin_redirects_are_followed_with_credentials_and_bounded() {
        let (base, log) = serve(|request| match request.path.as_str() {
            "/.well-known/caldav" => answer(301, vec![("Location", "/dav/".into())], ""),
            "/dav/" => answer(207, Vec::new(), &principal("/dav/p/")),
            "/loop" => answer(302, vec![("Location", "/loop".into())], ""),
            _ => answer(207, Vec::new(), &multistatus("")),
        })
        .await;
        let client = client_of(&base, BodyLimits::default());
        let (answered, _) = client
            .propfind(&base.join("/.well-known/caldav").expect("url"), "0", "<D:current-user-principal/>")
            .await
            .expect("followed");
        assert_eq!(answered.path(), "/dav/");
        let error = client.propfind(&base.join("/loop").expect("url"), "0", "<D:getetag/>").await.expect_err("loop");
        assert!(error.reason().contains("redirects"), "{error:?}");
        let log = log.lock().expect("log");
        assert_eq!(log.len(), 2 + MAX_REDIRECTS + 1);
        assert!(log.iter().all(|r| r.header("authorization").is_some()));
    }

    #[tokio::test]
    async fn https_never_becomes_http_even_on_the_same_host() {
        let (plain, log) = serve(|_| answer(207, Vec::new(), &principal("/p/"))).await;
        let mut secure = plain.clone();
        secure.set_scheme("https").expect("https");
        let client = client_of(&secure, BodyLimits::default());
        let error = client.propfind(&plain, "0", "<D:getetag/>").await.expect_err("downgrade");
        assert!(error.reason().contains("downgrade"), "{error:?}");
        assert!(log.lock().expect("log").is_empty(), "nothing was sent in clear");
    }

    #[tokio::test]
    async fn discovery_refuses_a_principal_or_home_on_another_origin() {
        let (elsewhere, elsewhere_log) = serve(|_| answer(207, Vec::new(), &principal("/p/"))).await;
        let foreign = elsewhere.join("/p/").expect("url").to_string();
        let (base, log) = serve(move |_| answer(207, Vec::new(), &principal(&foreign))).await;
        let client = client_of(&base, BodyLimits::default());
        let error = client.discover(&base, "caldav").await.expect_err("a foreign principal");
        assert!(error.reason().contains(&format!("127.0.0.1:{}", elsewhere.port().expect("port"))), "{error:?}");

        let foreign = elsewhere.join("/cal/").expect("url").to_string();
        let (base, _) = serve(move |request| {
            if request.body.contains("current-user-principal") {
                answer(207, Vec::new(), &principal("/p/"))
            } else {
                let home = format!(
                    r#"<D:response><D:href>/p/</D:href><D:propstat><D:prop><C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><D:href>{foreign}</D:href></C:calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
                );
                answer(207, Vec::new(), &multistatus(&home))
            }
        })
        .await;
        let client = client_of(&base, BodyLimits::default());
        let error = client.discover(&base, "caldav").await.expect_err("a foreign home");
        assert_eq!(error.kind(), AdapterErrorKind::Protocol, "{error:?}");
        assert!(elsewhere_log.lock().expect("log").is_empty());
        assert!(!log.lock().expect("log").is_empty());
    }

    #[tokio::test]
    async fn collections_outside_the_home_are_left_out() {
        let (base, _) = serve(|_| {
            let entry = |href: &str| {
                format!(
                    r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><R:addressbook xmlns:R="urn:ietf:params:xml:ns:carddav"/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
                )
            };
            let body = ["/home/", "/home/book/", "/other/book/", "http://evil.example/home/x/", "/home/../y/"]
                .map(entry)
                .concat();
            answer(207, Vec::new(), &multistatus(&body))
        })
        .await;
        let client = client_of(&base, BodyLimits::default());
        let found = client.collections(&base.join("/home/").expect("url")).await.expect("collections");
        let paths: Vec<_> = found.iter().map(|c| c.url.path()).collect();
        assert_eq!(paths, ["/home/book/"]);
    }

    #[tokio::test]
    async fn an_answer_past_its_bound_is_not_read_whole() {
        let limits = BodyLimits { item: 1 << 20, listing: 2 << 20 };
        let (base, written) = serve_endless(1 << 30).await;
        let client = client_of(&base, limits);
        let error = client.send_bounded("GET", &base, &[], None, Bound::Item).await.expect_err("too large");
        assert_eq!(error.kind(), AdapterErrorKind::TooLarge, "{error:?}");
        let error = client.send("PROPFIND", &base, &[], None).await.expect_err("too large");
        assert_eq!(error.kind(), AdapterErrorKind::TooLarge, "{error:?}");
        assert!(error.reason().contains(&(2 << 20).to_string()), "{error:?}");
        // Give the server a moment to notice the closed connections.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let written = written.load(std::sync::atomic::Ordering::SeqCst);
        assert!(written < 64 << 20, "the server wrote {written} bytes");

        // A Content-Length past the bound is refused before reading.
        let (base, _) = serve(|_| answer(200, Vec::new(), &"x".repeat(3 << 20))).await;
        let client = client_of(&base, limits);
        let error = client.send_bounded("GET", &base, &[], None, Bound::Item).await.expect_err("too large");
        assert_eq!(error.kind(), AdapterErrorKind::TooLarge, "{error:?}");
        assert_eq!(client.send("GET", &base, &[], None).await.expect_err("listing").kind(), AdapterErrorKind::TooLarge);
    }

    #[tokio::test]
    async fn an_error_answer_is_not_held_to_the_bound_of_what_was_asked_for() {
        let page = "x".repeat(4096);
        let (base, _) = serve(move |_| answer(404, Vec::new(), &page)).await;
        let client = client_of(&base, BodyLimits { item: 100, listing: 1 << 20 });
        for bound in [Bound::Bytes(100), Bound::Item] {
            let reply = client.send_bounded("GET", &base, &[], None, bound).await.expect("a 404, read");
            assert_eq!((reply.status, reply.body.len()), (StatusCode::NOT_FOUND, 4096));
        }
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            url: Url::parse("http://127.0.0.1/cal/x.ics").expect("url"),
            status: StatusCode::from_u16(status).expect("status"),
            etag: None,
            weak_etag: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn refusals_carry_the_precondition_and_the_servers_explanation() {
        let cyrus = r#"<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:valid-calendar-data/><D:responsedescription>DTEND must occur after DTSTART</D:responsedescription></D:error>"#;
        let error = reply(403, cyrus).error();
        assert_eq!(error.kind(), AdapterErrorKind::Refused);
        assert_eq!(
            error.reason(),
            "/cal/x.ics answered 403 Forbidden (valid-calendar-data: DTEND must occur after DTSTART)"
        );
        assert_eq!(
            reply(403, r#"<D:error xmlns:D="DAV:"><D:need-privileges/></D:error>"#).error().reason(),
            "/cal/x.ics answered 403 Forbidden (need-privileges)"
        );
        assert_eq!(
            reply(500, "<html>Internal Server Error</html>").error().reason(),
            "/cal/x.ics answered 500 Internal Server Error"
        );
    }

    #[test]
    fn a_servers_explanation_is_bounded_and_loses_its_control_characters() {
        let hostile = format!(
            r#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:valid-calendar-data/><D:responsedescription>line&#13;
200 OK forged&#7;&#x1b;[31m &#x202E;evil {}</D:responsedescription></D:error>"#,
            "x".repeat(10_000)
        );
        let reason = reply(403, &hostile).error().reason().to_owned();
        assert!(
            reason
                .starts_with("/cal/x.ics answered 403 Forbidden (valid-calendar-data: line 200 OK forged [31m evil x"),
            "{reason}"
        );
        assert!(reason.ends_with("...)"), "{reason}");
        assert!(!reason.chars().any(|c| c.is_control() || c == '\u{202E}'), "{reason:?}");
        assert!(reason.len() < 300, "{}", reason.len());
        assert_eq!(shown_text("  a \t\n b  ", 10), "a b");
        assert_eq!(shown_text("äöüäöü", 5), "äö...");
    }

    #[test]
    fn listings_get_twice_the_item_limit_and_at_least_a_floor() {
        assert_eq!(BodyLimits::for_item_size(100 << 20), BodyLimits { item: 100 << 20, listing: 200 << 20 });
        assert_eq!(BodyLimits::for_item_size(1 << 20).listing, MIN_LISTING);
        assert_eq!(BodyLimits::for_item_size(usize::MAX).listing, usize::MAX);
    }
}
