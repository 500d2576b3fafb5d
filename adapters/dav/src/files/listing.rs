//! A directory's members from a PROPFIND Depth 1 answer, taken as hostile: only direct children
//! of the directory asked about, with names that are one valid segment, at most a given number.

use agap_adapter_api::collection::ItemRef;
use agap_adapter_api::files::{DirectoryEntry, DirectoryListing, FileEntry, check_name};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use url::Url;

use crate::href::{decode_segment, inside};
use crate::multistatus::{AGAP, DAV, PropResponse};

/// The properties a listing asks for.
pub const LISTING_PROPS: &str = "<D:resourcetype/><D:getetag/><D:getcontentlength/><D:getlastmodified/><A:tags/>";

/// The gateway's tag property of a response, when present and not empty.
pub fn tags(response: &PropResponse) -> Option<String> {
    response.text(AGAP, TAGS_PROPERTY)
}

/// The local name of the tag property, in the gateway's namespace.
pub const TAGS_PROPERTY: &str = "tags";

/// Whether the response describes a collection.
pub fn is_collection(response: &PropResponse) -> bool {
    response.prop(DAV, "resourcetype").is_some_and(|types| types.child(DAV, "collection").is_some())
}

/// The ETag of a response, strong or weak, as the server sent it.
pub fn etag(response: &PropResponse) -> Option<String> {
    response.text(DAV, "getetag").filter(|etag| etag.starts_with('"') || etag.starts_with("W/\""))
}

/// The members of `directory` (a canonical path ending in '/') that `responses` (answered by
/// `answered`) name. More than `max_entries` of them is `TooLarge`. The directory itself, members
/// outside it or deeper down, failed responses, and names that are no valid single segment are
/// left out (logged); an answer saying the directory is no collection is `Refused`.
pub fn members(
    answered: &Url,
    directory: &str,
    responses: &[PropResponse],
    max_entries: usize,
) -> AdapterResult<DirectoryListing> {
    let mut listing = DirectoryListing::default();
    let mut count = 0usize;
    for response in responses {
        if response.status.is_some_and(|status| !(200..300).contains(&status)) {
            continue;
        }
        let Some(path) = inside(answered, directory, &response.href)? else {
            tracing::warn!(directory, href = ?response.href, "the server named a member outside the directory; ignored");
            continue;
        };
        let rest = path.get(directory.len()..).unwrap_or("");
        let segment = rest.strip_suffix('/').unwrap_or(rest);
        if segment.is_empty() {
            if !is_collection(response) && response.prop(DAV, "resourcetype").is_some() {
                return Err(AdapterError::new(AdapterErrorKind::Refused, format!("{directory} is no directory")));
            }
            continue;
        }
        if segment.contains('/') {
            tracing::warn!(directory, href = ?response.href, "the server named a member below a subdirectory; ignored");
            continue;
        }
        let Some(name) = decode_segment(segment).filter(|name| check_name(name).is_ok()) else {
            tracing::warn!(directory, href = ?response.href, "a member whose name is no valid file name; ignored");
            continue;
        };
        count += 1;
        if count > max_entries {
            return Err(AdapterError::new(
                AdapterErrorKind::TooLarge,
                format!("{directory} holds more than {max_entries} entries"),
            ));
        }
        let modified = response.text(DAV, "getlastmodified").and_then(|date| httpdate::parse_http_date(&date).ok());
        if is_collection(response) || rest.ends_with('/') {
            listing.directories.push(DirectoryEntry { href: format!("{directory}{segment}/"), name, modified });
        } else {
            let size = response.text(DAV, "getcontentlength").and_then(|size| size.parse().ok());
            let file = ItemRef { href: path, etag: etag(response) };
            listing.files.push(FileEntry { file, name, size, modified, tags: tags(response) });
        }
    }
    listing.files.sort_by(|a, b| a.file.href.cmp(&b.file.href));
    listing.files.dedup_by(|a, b| a.file.href == b.file.href);
    listing.directories.sort_by(|a, b| a.href.cmp(&b.href));
    listing.directories.dedup_by(|a, b| a.href == b.href);
    // A server naming one member as a file and as a directory: the directory wins, so that
    // nothing is shown twice.
    let directories = &listing.directories;
    listing.files.retain(|file| !directories.iter().any(|dir| dir.href == format!("{}/", file.file.href)));
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::multistatus::parse_multistatus;

    fn response(href: &str, collection: bool, etag: Option<&str>, extra: &str) -> String {
        let types = if collection { "<D:resourcetype><D:collection/></D:resourcetype>" } else { "<D:resourcetype/>" };
        let etag = etag.map(|e| format!("<D:getetag>{e}</D:getetag>")).unwrap_or_default();
        format!(
            r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop>{types}{etag}{extra}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
        )
    }

    fn parse(body: &str) -> Vec<PropResponse> {
        parse_multistatus(&format!(r#"<D:multistatus xmlns:D="DAV:">{body}</D:multistatus>"#)).expect("multistatus")
    }

    fn answered() -> Url {
        Url::parse("http://files.example/files/alice/docs/").expect("url")
    }

    #[test]
    fn files_and_directories_with_their_properties() {
        let body = [
            response("/files/alice/docs/", true, Some(r#"W/"1000-1""#), ""),
            response(
                "/files/alice/docs/a%20b.txt",
                false,
                Some(r#""5-66""#),
                "<D:getcontentlength>5</D:getcontentlength><D:getlastmodified>Sun, 06 Nov 1994 08:49:37 GMT</D:getlastmodified>",
            ),
            response("http://files.example/files/alice/docs/%C3%BC", false, Some(r#"W/"2-1""#), ""),
            response("/files/alice/docs/sub/", true, None, ""),
            response("/files/alice/docs/plain", true, None, ""),
        ]
        .concat();
        let listing = members(&answered(), "/files/alice/docs/", &parse(&body), 10).expect("listing");
        let names: Vec<_> = listing.files.iter().map(|f| (f.name.as_str(), f.file.etag.as_deref())).collect();
        // Sorted by href: "%C3%BC" before "a%20b.txt".
        assert_eq!(names, [("ü", Some(r#"W/"2-1""#)), ("a b.txt", Some(r#""5-66""#))]);
        assert_eq!(listing.files[1].file.href, "/files/alice/docs/a%20b.txt");
        assert_eq!(listing.files[1].size, Some(5));
        assert_eq!(listing.files[1].modified, Some(UNIX_EPOCH + Duration::from_secs(784_111_777)));
        assert_eq!(listing.files[0].size, None);
        let dirs: Vec<_> = listing.directories.iter().map(|d| (d.href.as_str(), d.name.as_str())).collect();
        assert_eq!(dirs, [("/files/alice/docs/plain/", "plain"), ("/files/alice/docs/sub/", "sub")]);
    }

    #[test]
    fn hostile_members_are_left_out() {
        let body = [
            response("/files/bob/secret.txt", false, Some(r#""1""#), ""),
            response("/files/alice/docs/../other.txt", false, None, ""),
            response("/files/alice/docs/%2e%2e", false, None, ""),
            response("http://evil.example/files/alice/docs/x", false, None, ""),
            response("/files/alice/docs/sub/deeper.txt", false, None, ""),
            response("/files/alice/docs/a%2Fb", false, None, ""),
            response("/files/alice/docs/nl%0Ax", false, None, ""),
            response("/files/alice/docs/%FF", false, None, ""),
            response("/files/alice/docs/ok", false, Some("not-quoted"), "<D:getcontentlength>-4</D:getcontentlength><D:getlastmodified>yesterday</D:getlastmodified>"),
            r#"<D:response><D:href>/files/alice/docs/gone</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"#.to_owned(),
        ]
        .concat();
        let listing = members(&answered(), "/files/alice/docs/", &parse(&body), 10).expect("listing");
        assert!(listing.directories.is_empty(), "{listing:?}");
        assert_eq!(listing.files.len(), 1, "{listing:?}");
        let ok = &listing.files[0];
        assert_eq!((ok.name.as_str(), &ok.file.etag, ok.size, ok.modified), ("ok", &None, None, None));
    }

    #[test]
    fn too_many_members_is_an_error_not_a_partial_listing() {
        let body: String = (0..11).map(|i| response(&format!("/files/alice/docs/f{i}"), false, None, "")).collect();
        let responses = parse(&body);
        assert_eq!(members(&answered(), "/files/alice/docs/", &responses, 11).expect("fits").files.len(), 11);
        let error = members(&answered(), "/files/alice/docs/", &responses, 10).expect_err("too many");
        assert_eq!(error.kind(), AdapterErrorKind::TooLarge);
    }

    #[test]
    fn a_file_is_no_directory() {
        let body = response("/files/alice/docs/", false, Some(r#""1""#), "");
        let error = members(&answered(), "/files/alice/docs/", &parse(&body), 10).expect_err("a file");
        assert_eq!(error.kind(), AdapterErrorKind::Refused);
    }
}
