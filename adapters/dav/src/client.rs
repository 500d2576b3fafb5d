//! HTTP side of the WebDAV client: authenticated PROPFIND with redirects followed by hand
//! (reqwest turns a redirected PROPFIND into a GET), discovery and collection listing.

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use reqwest::{Method, StatusCode, header};
use url::Url;

use crate::multistatus::{CALDAV, CALENDARSERVER, CARDDAV, DAV, PropResponse, parse_multistatus};

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
}

/// A WebDAV client for one account (HTTP Basic, kept-alive connections).
#[derive(Debug, Clone)]
pub struct DavClient {
    http: reqwest::Client,
    user: String,
    password: String,
}

fn refused(status: StatusCode, url: &Url) -> AdapterError {
    let kind = match status {
        StatusCode::UNAUTHORIZED => AdapterErrorKind::AuthenticationFailed,
        StatusCode::NOT_FOUND | StatusCode::GONE => AdapterErrorKind::NotFound,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => AdapterErrorKind::Unsupported,
        status if status.is_server_error() => AdapterErrorKind::Unavailable,
        _ => AdapterErrorKind::Refused,
    };
    AdapterError::new(kind, format!("{} answered {status}", url.path()))
}

fn protocol(reason: impl std::fmt::Display) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Protocol, reason.to_string())
}

impl DavClient {
    pub fn new(user: &str, password: &str) -> AdapterResult<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AdapterError::new(AdapterErrorKind::Unavailable, format!("HTTP client: {e}")))?;
        Ok(DavClient { http, user: user.to_owned(), password: password.to_owned() })
    }

    /// PROPFIND `url` with `depth` ("0" or "1") for the properties in `props` (inner XML of
    /// DAV:prop, with prefixes D, C, CR and CS bound); redirects are followed.
    pub async fn propfind(&self, url: &Url, depth: &str, props: &str) -> AdapterResult<(Url, Vec<PropResponse>)> {
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="{DAV}" xmlns:C="{CALDAV}" xmlns:CR="{CARDDAV}" xmlns:CS="{CALENDARSERVER}"><D:prop>{props}</D:prop></D:propfind>"#
        );
        let method = Method::from_bytes(b"PROPFIND").map_err(protocol)?;
        let mut target = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .http
                .request(method.clone(), target.clone())
                .basic_auth(&self.user, Some(&self.password))
                .header("Depth", depth)
                .header(header::CONTENT_TYPE, "application/xml; charset=utf-8")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| AdapterError::new(AdapterErrorKind::Unavailable, format!("{}: {e}", target.path())))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| protocol("a redirect without Location"))?;
                target = target.join(location).map_err(protocol)?;
                continue;
            }
            if status != StatusCode::MULTI_STATUS {
                return Err(refused(status, &target));
            }
            let text = response.text().await.map_err(protocol)?;
            return Ok((target, parse_multistatus(&text).map_err(protocol)?));
        }
        Err(protocol(format!("more than {MAX_REDIRECTS} redirects from {}", url.path())))
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
        let (answered, responses) = self
            .propfind(
                home,
                "1",
                "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/><CS:getctag/><D:sync-token/>",
            )
            .await?;
        let mut collections = Vec::new();
        for response in responses {
            let url = answered.join(&response.href).map_err(protocol)?;
            if url.path().trim_end_matches('/') == answered.path().trim_end_matches('/') {
                continue;
            }
            let Some(types) = response.prop(DAV, "resourcetype") else { continue };
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
                continue;
            };
            collections.push(Collection {
                url,
                display_name: response.text(DAV, "displayname"),
                kind,
                ctag: response.text(CALENDARSERVER, "getctag"),
                sync_token: response.text(DAV, "sync-token"),
            });
        }
        Ok(collections)
    }
}

/// The component a CALDAV:comp element names (RFC 4791 9.6.1).
fn comp_name(comp: &crate::multistatus::Node) -> Option<String> {
    comp.attribute("name").map(str::to_ascii_uppercase)
}
