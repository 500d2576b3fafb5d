//! One spelling for every href: the absolute path of the URL, each segment percent-decoded and
//! re-encoded the same way (RFC 3986 6.2.2), whatever form the server or the core used (a full
//! URL, a relative reference, `%40` or `@`).

use agap_adapter_api::AdapterResult;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use url::Url;

use crate::client::protocol;

/// What a segment keeps unencoded: unreserved characters, sub-delims, ':' and '@' (RFC 3986 3.3).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The canonical spelling of an absolute path.
pub fn canonical_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let bytes: Vec<u8> = percent_decode_str(segment).collect();
            if bytes.iter().all(|b| *b == b'.') && !bytes.is_empty() {
                // "." and ".." stay encoded so that they never act as dot segments.
                bytes.iter().map(|_| "%2E").collect()
            } else {
                percent_encode(&bytes, SEGMENT).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The canonical absolute path of `href` as resolved against `base`.
pub fn normalize(base: &Url, href: &str) -> AdapterResult<String> {
    let url = base.join(href.trim()).map_err(|e| protocol(format!("a bad href {href:?}: {e}")))?;
    Ok(canonical_path(url.path()))
}

/// The canonical path of a collection: always ending in '/'.
pub fn normalize_collection(base: &Url, href: &str) -> AdapterResult<String> {
    let mut path = normalize(base, href)?;
    if !path.ends_with('/') {
        path.push('/');
    }
    Ok(path)
}

/// The canonical path of `href` (resolved against `answered`, the URL that gave it) when it
/// names `collection` (a canonical collection path, ending in '/') or something inside it, on
/// the origin of `answered`; `None` when it lies elsewhere. Both sides are compared in the
/// canonical spelling, after dot segments are resolved, so neither `%2F`, `..` nor another
/// spelling of the same host leads outside.
pub fn inside(answered: &Url, collection: &str, href: &str) -> AdapterResult<Option<String>> {
    let url = answered.join(href.trim()).map_err(|e| protocol(format!("a bad href {href:?}: {e}")))?;
    if url.origin() != answered.origin() {
        return Ok(None);
    }
    let path = canonical_path(url.path());
    let within = path.starts_with(collection) || path == collection.trim_end_matches('/');
    Ok(within.then_some(path))
}

/// The URL of a canonical path on the server of `base`.
pub fn url_of(base: &Url, path: &str) -> AdapterResult<Url> {
    let path = normalize(base, path)?;
    base.join(&path).map_err(|e| protocol(format!("a bad href {path:?}: {e}")))
}

/// The last segment of a path (the resource name), without a trailing '/'.
pub fn last_segment(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// One resource name as a path segment: every byte outside the segment's unreserved set
/// percent-encoded ('%' and '/' included), as [`canonical_path`] spells it. The caller checks
/// the name first (`agap_adapter_api::files::check_name`: no '/', no dot segment).
pub fn encode_segment(name: &str) -> String {
    percent_encode(name.as_bytes(), SEGMENT).to_string()
}

/// The name a path segment spells, percent-decoded; `None` when it is not UTF-8.
pub fn decode_segment(segment: &str) -> Option<String> {
    percent_decode_str(segment).decode_utf8().ok().map(|name| name.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://dav.example:5232/alice/").expect("url")
    }

    #[test]
    fn one_spelling_for_every_form() {
        let expected = "/alice/cal/a%20b@c.ics";
        for href in ["/alice/cal/a%20b%40c.ics", "http://dav.example:5232/alice/cal/a b@c.ics", "cal/a%20b@c.ics"] {
            assert_eq!(normalize(&base(), href).expect("href"), expected, "{href}");
        }
        assert_eq!(normalize(&base(), "/alice/cal/%7e%c3%a4.ics").expect("href"), "/alice/cal/~%C3%A4.ics");
        assert_eq!(normalize(&base(), "/alice/a%2fb/").expect("href"), "/alice/a%2Fb/");
        assert_eq!(canonical_path("/alice/%2e%2e/x"), "/alice/%2E%2E/x");
        assert_eq!(normalize_collection(&base(), "/alice/cal").expect("href"), "/alice/cal/");
    }

    #[test]
    fn hrefs_outside_the_collection_are_refused() {
        let answered = Url::parse("http://dav.example:5232/alice/cal/").expect("url");
        let collection = "/alice/cal/";
        for href in ["/alice/cal/a.ics", "a%20b.ics", "http://dav.example:5232/alice/cal/x.ics", "/alice/cal"] {
            assert!(inside(&answered, collection, href).expect("href").is_some(), "{href}");
        }
        assert_eq!(
            inside(&answered, collection, "/alice/cal/a%40b.ics").expect("href").as_deref(),
            Some("/alice/cal/a@b.ics")
        );
        for href in [
            "/alice/other/a.ics",
            "/alice/cal/../other/a.ics",
            "/alice/cal/%2e%2e/other/a.ics",
            "../other/a.ics",
            "/alice/calendar/a.ics",
            "/alice/cal%2Fx.ics",
            "http://evil.example/alice/cal/a.ics",
            "https://dav.example:5232/alice/cal/a.ics",
            "http://dav.example:5233/alice/cal/a.ics",
            "//evil.example/alice/cal/a.ics",
        ] {
            assert_eq!(inside(&answered, collection, href).expect("href"), None, "{href}");
        }
    }

    #[test]
    fn urls_keep_the_canonical_path() {
        let path = "/alice/cal/a%20b%3F%23x.ics";
        assert_eq!(url_of(&base(), path).expect("url").path(), path);
        assert_eq!(last_segment("/alice/cal/x.ics"), "x.ics");
        assert_eq!(last_segment("/alice/cal/"), "cal");
    }

    #[test]
    fn names_become_one_segment_and_back() {
        for (name, segment) in [
            ("a b.txt", "a%20b.txt"),
            ("100%", "100%25"),
            ("a%2Fb", "a%252Fb"),
            ("ü?#", "%C3%BC%3F%23"),
            ("x@y:z", "x@y:z"),
        ] {
            assert_eq!(encode_segment(name), segment);
            assert_eq!(canonical_path(segment), segment, "already canonical");
            assert_eq!(decode_segment(segment).as_deref(), Some(name));
        }
        assert_eq!(decode_segment("%FF"), None);
    }
}
