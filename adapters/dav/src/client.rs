//! HTTP side of the WebDAV client: authenticated PROPFIND with redirects followed by hand
//! (reqwest turns a redirected PROPFIND into a GET), discovery and collection listing.

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use reqwest::{Method, StatusCode, header};
use url::Url;

use crate::multistatus::{
    AGAP, CALDAV, CALENDARSERVER, CARDDAV, DAV, PropResponse, error_condition, parse_multistatus,
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

/// A WebDAV client for one account (HTTP Basic on every request, kept-alive connections of a
/// possibly shared `reqwest::Client`).
#[derive(Clone)]
pub struct DavClient {
    http: reqwest::Client,
    user: String,
    password: String,
}

impl std::fmt::Debug for DavClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DavClient").field("user", &self.user).finish_non_exhaustive()
    }
}

/// One HTTP answer, read whole (bounded by [`MAX_BODY`]).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub status: StatusCode,
    /// A strong ETag header, when the server sent one.
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error this answer stands for, with the DAV precondition it names, if any.
    pub fn error(&self) -> AdapterError {
        let error = refused(self.status, &self.url);
        match error_condition(&self.text()) {
            Some(condition) => AdapterError::new(error.kind(), format!("{} ({condition})", error.reason())),
            None => error,
        }
    }

    /// The DAV precondition the body names (RFC 4918 16), if any.
    pub fn condition(&self) -> Option<String> {
        error_condition(&self.text())
    }
}

/// The largest answer read (a multiget is split so that it stays well below).
pub(crate) const MAX_BODY: usize = 64 << 20;

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
/// only), bounded waits, connections kept alive; https through rustls, verifying certificates
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
    /// A client with a connection pool of its own.
    pub fn new(user: &str, password: &str) -> AdapterResult<Self> {
        Ok(Self::with_http(http_client()?, user, password))
    }

    /// A client sharing the connection pool of `http` (which must not follow redirects itself:
    /// see [`http_client`]).
    pub fn with_http(http: reqwest::Client, user: &str, password: &str) -> Self {
        DavClient { http, user: user.to_owned(), password: password.to_owned() }
    }

    /// The account name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Sends one request and reads the whole answer. Redirects are followed for the methods that
    /// only read (PROPFIND, REPORT, GET), never for writes.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> AdapterResult<Reply> {
        let method = Method::from_bytes(method.as_bytes()).map_err(protocol)?;
        let follows = matches!(method.as_str(), "PROPFIND" | "REPORT" | "GET" | "HEAD" | "OPTIONS");
        let mut target = url.clone();
        for _ in 0..=MAX_REDIRECTS {
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
            let etag = response
                .headers()
                .get(header::ETAG)
                .and_then(|e| e.to_str().ok())
                .map(str::trim)
                .filter(|e| e.starts_with('"'))
                .map(str::to_owned);
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(protocol(format!("{} sent more than {MAX_BODY} bytes", target.path())));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Reply { url: target, status, etag, body });
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
                        principal = Some(answered.join(&href).map_err(protocol)?);
                        break;
                    }
                }
                Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => return Err(error),
                Err(error) => last_error = Some(error),
            }
        }
        let principal = principal
            .ok_or_else(|| last_error.unwrap_or_else(|| protocol("the server reports no current-user-principal")))?;
        let (answered, responses) =
            self.propfind(&principal, "0", "<C:calendar-home-set/><CR:addressbook-home-set/>").await?;
        let home = |namespace, name| -> AdapterResult<Option<Url>> {
            match responses.iter().find_map(|r| r.href_in(namespace, name)) {
                Some(href) => Ok(Some(answered.join(&href).map_err(protocol)?)),
                None => Ok(None),
            }
        };
        Ok(Homes {
            calendar_home: home(CALDAV, "calendar-home-set")?,
            addressbook_home: home(CARDDAV, "addressbook-home-set")?,
            principal,
        })
    }

    /// The calendars and address books directly inside `home`.
    pub async fn collections(&self, home: &Url) -> AdapterResult<Vec<Collection>> {
        let (answered, responses) = self.propfind(home, "1", COLLECTION_PROPS).await?;
        let mut collections = Vec::new();
        for response in responses {
            let url = answered.join(&response.href).map_err(protocol)?;
            if url.path().trim_end_matches('/') == answered.path().trim_end_matches('/') {
                continue;
            }
            collections.extend(collection_from(url, &response));
        }
        Ok(collections)
    }

    /// The collection at `url` itself (PROPFIND Depth 0); `None` when it is neither a calendar
    /// nor an address book.
    pub async fn collection(&self, url: &Url) -> AdapterResult<Option<Collection>> {
        let (answered, responses) = self.propfind(url, "0", COLLECTION_PROPS).await?;
        let Some(response) = responses.first() else { return Ok(None) };
        let url = answered.join(&response.href).map_err(protocol)?;
        Ok(collection_from(url, response))
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
