//! The WebDAV file adapter (the upstream of FILE folders) against the real file server of the
//! harness, Apache mod_dav (integration/backends/files.sh), the same for every pair: files and
//! directories made through the adapter and by another WebDAV client, names that need encoding,
//! the bounds, and the preconditions. Each test has its own account (user80 and up), so its own
//! directory.

use std::sync::Arc;

use agap_adapter_api::collection::Precondition;
use agap_adapter_api::files::{FileAccount, same_version};
use agap_adapter_api::{AdapterErrorKind, Credentials};
use agap_adapter_dav::{DavFileAccount, DavFileBackend};

use crate::harness::{files_home, files_url, password};

fn account(user: &str) -> Arc<DavFileAccount> {
    DavFileBackend::new(&files_url())
        .expect("backend")
        .account(&Credentials::new(user, password(user)))
        .expect("account")
}

/// A request of another WebDAV client, as `user`.
async fn other_client(user: &str, method: &str, url: &url::Url, body: Option<&[u8]>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url.clone())
        .basic_auth(user, Some(password(user)));
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn files_are_written_listed_read_replaced_and_deleted_under_their_preconditions() {
    let user = "user80";
    let files = account(user);
    let home = files.home().await.expect("home");
    assert_eq!(home, "/files/user80/");
    assert!(files.list_directory(&home, 100).await.expect("listing").files.is_empty());

    let written = files.put_file(&home, "a.txt", b"first", &Precondition::Absent).await.expect("new file");
    assert_eq!(written.href, "/files/user80/a.txt");
    let etag = written.etag.clone().expect("Apache reports an ETag (asked for after the PUT)");
    let again = files.put_file(&home, "a.txt", b"other", &Precondition::Absent).await.expect_err("exists");
    assert_eq!(again.kind(), AdapterErrorKind::AlreadyExists, "{again:?}");

    let listing = files.list_directory(&home, 100).await.expect("listing");
    assert_eq!(listing.files.len(), 1, "{listing:?}");
    let entry = &listing.files[0];
    assert_eq!((entry.name.as_str(), entry.size, entry.file.href.as_str()), ("a.txt", Some(5), "/files/user80/a.txt"));
    assert!(entry.modified.is_some(), "{entry:?}");
    assert!(same_version(entry.file.etag.as_deref().expect("etag"), &etag), "{entry:?} vs {etag}");

    let read = files.get_file(&written.href, 1024).await.expect("get").expect("found");
    assert_eq!(read.body, b"first");
    let too_large = files.get_file(&written.href, 4).await.expect_err("over the limit");
    assert_eq!(too_large.kind(), AdapterErrorKind::TooLarge, "{too_large:?}");

    // A stale version is refused and changes nothing; the version read replaces (Apache's ETag is
    // weak within a second of the write: the adapter waits for its strong form).
    let stale = Precondition::Unchanged("\"0-0\"".into());
    let refused = files.put_file(&home, "a.txt", b"lost", &stale).await.expect_err("stale");
    assert_eq!(refused.kind(), AdapterErrorKind::Conflict, "{refused:?}");
    let replaced = files.put_file(&home, "a.txt", b"second", &Precondition::Unchanged(etag.clone())).await;
    let replaced = replaced.expect("replaced in the version read");
    assert!(!same_version(replaced.etag.as_deref().expect("etag"), &etag), "a new version");
    let old = files.put_file(&home, "a.txt", b"lost", &Precondition::Unchanged(etag.clone())).await;
    assert_eq!(old.expect_err("the old version").kind(), AdapterErrorKind::Conflict);
    assert_eq!(files.get_file(&written.href, 1024).await.expect("get").expect("found").body, b"second");

    let stale_delete = files.delete_file(&written.href, Some(&etag)).await.expect_err("stale");
    assert_eq!(stale_delete.kind(), AdapterErrorKind::Conflict);
    assert!(files.delete_file(&written.href, replaced.etag.as_deref()).await.expect("deleted"));
    assert!(!files.delete_file(&written.href, None).await.expect("already gone"));
    assert_eq!(files.get_file(&written.href, 1024).await.expect("get"), None);
}

#[tokio::test]
async fn directories_are_made_nested_moved_copied_and_deleted() {
    let user = "user81";
    let files = account(user);
    let home = files.home().await.expect("home");
    let a = files.make_directory(&home, "a").await.expect("mkcol a");
    assert_eq!(a, "/files/user81/a/");
    let b = files.make_directory(&a, "b").await.expect("mkcol a/b");
    assert_eq!(b, "/files/user81/a/b/");
    let missing = files.make_directory("/files/user81/none/", "c").await.expect_err("no parent");
    assert_eq!(missing.kind(), AdapterErrorKind::NotFound, "{missing:?}");
    let exists = files.make_directory(&home, "a").await.expect_err("exists");
    assert_eq!(exists.kind(), AdapterErrorKind::AlreadyExists, "{exists:?}");
    let nowhere = files.put_file("/files/user81/none/", "f", b"x", &Precondition::Absent).await;
    assert_eq!(nowhere.expect_err("no directory").kind(), AdapterErrorKind::NotFound);

    let f = files.put_file(&b, "f.txt", b"deep", &Precondition::Absent).await.expect("put in a/b");
    let listing = files.list_directory(&a, 100).await.expect("listing of a");
    assert!(listing.files.is_empty());
    let dirs: Vec<_> = listing.directories.iter().map(|d| (d.name.as_str(), d.href.as_str())).collect();
    assert_eq!(dirs, [("b", "/files/user81/a/b/")]);

    // Copy a directory with its content, then move a file out of the original.
    let copy = files.copy_directory(&a, &home, "a copy").await.expect("copy a");
    assert_eq!(copy, "/files/user81/a%20copy/");
    let copied = files.get_file("/files/user81/a%20copy/b/f.txt", 100).await.expect("get").expect("copied");
    assert_eq!(copied.body, b"deep");
    let again = files.copy_directory(&a, &home, "a copy").await.expect_err("target exists");
    assert_eq!(again.kind(), AdapterErrorKind::AlreadyExists, "{again:?}");
    let into_itself = files.move_directory(&a, &b, "loop").await.expect_err("into itself");
    assert_eq!(into_itself.kind(), AdapterErrorKind::Refused);

    let moved = files.move_file(&f.href, &home, "g.txt").await.expect("move");
    assert_eq!(moved.href, "/files/user81/g.txt");
    assert!(moved.etag.is_some());
    assert_eq!(files.get_file(&f.href, 100).await.expect("get"), None, "moved away");
    let copied = files.copy_file(&moved.href, &a, "h.txt").await.expect("copy");
    assert_eq!(copied.href, "/files/user81/a/h.txt");
    let onto = files.copy_file(&moved.href, &a, "h.txt").await.expect_err("exists");
    assert_eq!(onto.kind(), AdapterErrorKind::AlreadyExists, "{onto:?}");

    let renamed = files.move_directory(&copy, &a, "moved").await.expect("move directory");
    assert_eq!(renamed, "/files/user81/a/moved/");
    let listing = files.list_directory(&a, 100).await.expect("listing of a");
    let names: Vec<_> = listing.directories.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["b", "moved"]);
    assert_eq!(listing.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["h.txt"]);
    let too_many = files.list_directory(&a, 2).await.expect_err("three entries");
    assert_eq!(too_many.kind(), AdapterErrorKind::TooLarge);

    // A directory never goes by a file's deletion, and a file never by a directory's.
    assert_eq!(files.delete_file("/files/user81/a/b", None).await.expect_err("dir").kind(), AdapterErrorKind::Refused);
    assert_eq!(files.delete_directory(&moved.href).await.expect_err("file").kind(), AdapterErrorKind::Refused);
    assert!(files.delete_directory(&a).await.expect("deleted with its content"));
    assert!(!files.delete_directory(&a).await.expect("gone"));
    let listing = files.list_directory(&home, 100).await.expect("listing");
    assert!(listing.directories.is_empty(), "{listing:?}");
    assert_eq!(listing.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["g.txt"]);
}

#[tokio::test]
async fn names_with_spaces_utf8_and_percent_round_trip_and_match_what_other_clients_see() {
    let user = "user82";
    let files = account(user);
    let home = files.home().await.expect("home");
    let names = ["a b.txt", "ünïcödé ✓.txt", "100%.txt", "a%2Fb", "#?&=+;@.txt", "..hidden", "%"];
    for name in names {
        files
            .put_file(&home, name, name.as_bytes(), &Precondition::Absent)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let dir = files.make_directory(&home, "dir ü%").await.expect("mkcol");
    files.put_file(&dir, "in ü%", b"inner", &Precondition::Absent).await.expect("put inside");

    let listing = files.list_directory(&home, 100).await.expect("listing");
    let mut listed: Vec<_> = listing.files.iter().map(|f| f.name.as_str()).collect();
    listed.sort_unstable();
    let mut expected = names.to_vec();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert_eq!(listing.directories.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["dir ü%"]);
    for entry in &listing.files {
        let read = files.get_file(&entry.file.href, 100).await.expect("get").expect("found");
        assert_eq!(read.body, entry.name.as_bytes(), "{}", entry.file.href);
        // Another client reaches the same file by the href the adapter names.
        let url = files_home(user).join(&entry.file.href).expect("url");
        let response = other_client(user, "GET", &url, None).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.bytes().await.expect("body").as_ref(), entry.name.as_bytes());
    }
    let inner = files.list_directory(&dir, 10).await.expect("listing of the directory");
    assert_eq!(inner.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["in ü%"]);
}

#[tokio::test]
async fn hostile_names_and_other_users_paths_are_refused() {
    let user = "user83";
    let files = account(user);
    let home = files.home().await.expect("home");
    for name in ["", ".", "..", "a/b", "../user84", "x\r\ny", "\u{0}"] {
        let error = files.put_file(&home, name, b"x", &Precondition::Any).await.expect_err(name);
        assert_eq!(error.kind(), AdapterErrorKind::Refused, "{name:?}");
        let error = files.make_directory(&home, name).await.expect_err(name);
        assert_eq!(error.kind(), AdapterErrorKind::Refused, "{name:?}");
    }
    assert!(files.list_directory(&home, 100).await.expect("listing").files.is_empty(), "nothing was written");
    for href in ["/files/user84/", "/files/user83/../user84/x", "/files/user83/%2e%2e/user84/"] {
        let error = files.list_directory(href, 10).await.expect_err(href);
        assert_eq!(error.kind(), AdapterErrorKind::Refused, "{href}: {error:?}");
    }
    // The server keeps users apart too: user83's credentials do not open user84's directory.
    let response = other_client(user, "PROPFIND", &files_home("user84"), None).await;
    assert_eq!(response.status(), 403);
    let wrong =
        DavFileBackend::new(&files_url()).expect("backend").account(&Credentials::new(user, "wrong")).expect("account");
    let error = wrong.list_directory("/files/user83/", 10).await.expect_err("wrong password");
    assert_eq!(error.kind(), AdapterErrorKind::AuthenticationFailed, "{error:?}");
}

#[tokio::test]
async fn a_file_put_by_another_client_is_listed_and_read() {
    let user = "user84";
    let url = files_home(user).join("from%20curl.txt").expect("url");
    let response = other_client(user, "PUT", &url, Some(b"made elsewhere")).await;
    assert_eq!(response.status(), 201);
    let response = other_client(user, "MKCOL", &files_home(user).join("made%20elsewhere/").expect("url"), None).await;
    assert_eq!(response.status(), 201);

    let files = account(user);
    let listing = files.list_directory(&files.home().await.expect("home"), 100).await.expect("listing");
    let entry = listing.files.iter().find(|f| f.name == "from curl.txt").expect("listed");
    assert_eq!((entry.file.href.as_str(), entry.size), ("/files/user84/from%20curl.txt", Some(14)));
    assert!(entry.file.etag.is_some());
    assert_eq!(listing.directories.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["made elsewhere"]);
    let read = files.get_file(&entry.file.href, 1024).await.expect("get").expect("found");
    assert_eq!(read.body, b"made elsewhere");
}
