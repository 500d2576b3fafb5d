//! Where an account's files live: the `[files] url`, a URL template naming the user
//! (`https://files.example/dav/{user}/`), or a URL where the server is asked for the user's
//! principal (RFC 5397 DAV:current-user-principal), which is the home when it is a collection.

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use url::Url;

use crate::client::{DavClient, protocol};
use crate::href::encode_segment;
use crate::multistatus::DAV;

/// The placeholder of a URL template.
pub const USER_PLACEHOLDER: &str = "{user}";

/// How the home of an account is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeSource {
    /// A URL with [`USER_PLACEHOLDER`] in its path, replaced by the user name as one segment.
    Template(String),
    /// A URL to ask for the principal; itself the home when the server names no principal
    /// collection.
    Discover(Url),
}

impl HomeSource {
    /// Reads a `[files] url`: a template when it holds [`USER_PLACEHOLDER`] (only in the path:
    /// the server must not depend on the user), else a plain URL. Never with credentials in it.
    pub fn parse(url: &str) -> AdapterResult<Self> {
        let invalid = |why: String| AdapterError::new(AdapterErrorKind::Refused, format!("[files] url {url:?}: {why}"));
        let sample = |user: &str| Url::parse(&url.replace(USER_PLACEHOLDER, user)).map_err(|e| invalid(e.to_string()));
        let parsed = sample("u")?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            // Not repeating the URL: it holds a secret.
            return Err(AdapterError::new(
                AdapterErrorKind::Refused,
                "[files] url must not hold a user name or password: users log in with their own",
            ));
        }
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {:?} is neither https nor http", parsed.scheme())));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("must have no query or fragment".into()));
        }
        if !url.contains(USER_PLACEHOLDER) {
            return Ok(Self::Discover(parsed));
        }
        // In the path only: another user must reach the same server the same way.
        let other = sample("v")?;
        if other.origin() != parsed.origin() {
            return Err(invalid(format!("{USER_PLACEHOLDER} may stand only in the path")));
        }
        Ok(Self::Template(url.to_owned()))
    }

    /// The URL whose origin every request of every account goes to.
    pub fn origin_url(&self) -> AdapterResult<Url> {
        match self {
            Self::Template(template) => {
                Url::parse(&template.replace(USER_PLACEHOLDER, "u")).map_err(|e| protocol(e.to_string()))
            }
            Self::Discover(url) => Ok(url.clone()),
        }
    }

    /// The home of the account `client` logs in as, ending in '/'.
    pub async fn find(&self, client: &DavClient) -> AdapterResult<Url> {
        let home = match self {
            Self::Template(template) => {
                let url = template.replace(USER_PLACEHOLDER, &encode_segment(client.user()));
                Url::parse(&url).map_err(|e| protocol(format!("the home of {:?}: {e}", client.user())))?
            }
            Self::Discover(url) => discover(client, url).await?,
        };
        client.check_origin(&home)?;
        Ok(as_collection(home))
    }
}

/// `url` with a path ending in '/'.
fn as_collection(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    url
}

/// The principal of the user at `url` when the server names one and it is a collection (a
/// server that keeps files in the principal); `url` itself otherwise (Apache mod_dav knows no
/// principals). A refused login is an error; so is an unreachable server.
async fn discover(client: &DavClient, url: &Url) -> AdapterResult<Url> {
    let principal = match client.propfind(url, "0", "<D:current-user-principal/>").await {
        Ok((answered, responses)) => match responses.iter().find_map(|r| r.href_in(DAV, "current-user-principal")) {
            Some(href) => Some(answered.join(&href).map_err(protocol)?),
            None => None,
        },
        Err(error) if fatal(&error) => return Err(error),
        Err(error) => {
            tracing::debug!(%error, "no principal at the files URL; it is the home");
            None
        }
    };
    let Some(principal) = principal else { return Ok(url.clone()) };
    client.check_origin(&principal)?;
    match client.propfind(&principal, "0", "<D:resourcetype/>").await {
        Ok((_, responses)) => {
            let collection = responses
                .first()
                .and_then(|r| r.prop(DAV, "resourcetype"))
                .is_some_and(|types| types.child(DAV, "collection").is_some());
            Ok(if collection { principal } else { url.clone() })
        }
        Err(error) if fatal(&error) => Err(error),
        Err(_) => Ok(url.clone()),
    }
}

/// Failures discovery must not paper over by falling back to the URL itself.
fn fatal(error: &AdapterError) -> bool {
    matches!(error.kind(), AdapterErrorKind::AuthenticationFailed | AdapterErrorKind::Unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_the_user_in_the_path_only() {
        let template = HomeSource::parse("http://127.0.0.1:8090/files/{user}/").expect("template");
        assert_eq!(template, HomeSource::Template("http://127.0.0.1:8090/files/{user}/".into()));
        assert_eq!(template.origin_url().expect("origin").as_str(), "http://127.0.0.1:8090/files/u/");
        assert!(matches!(HomeSource::parse("https://dav.example/remote.php/dav/"), Ok(HomeSource::Discover(_))));
        for bad in [
            "http://{user}.example/files/",
            "http://files.example:80{user}/",
            "http://alice:secret@files.example/{user}/",
            "ftp://files.example/{user}/",
            "http://files.example/{user}/?x=1",
            "http://files.example/files/#{user}",
            "not a url",
        ] {
            let error = HomeSource::parse(bad).expect_err(bad);
            assert_eq!(error.kind(), AdapterErrorKind::Refused, "{bad}");
            assert!(!error.reason().contains("secret"), "{error:?}");
        }
    }

    #[tokio::test]
    async fn a_template_gets_the_user_as_one_encoded_segment() {
        let template = HomeSource::parse("http://127.0.0.1:8090/files/{user}").expect("template");
        let origin = template.origin_url().expect("origin");
        let client = DavClient::new(&origin, "a b/../c%", "pw").expect("client");
        let home = template.find(&client).await.expect("home");
        assert_eq!(home.as_str(), "http://127.0.0.1:8090/files/a%20b%2F..%2Fc%25/");
    }
}
