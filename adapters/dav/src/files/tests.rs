//! The file account against scripted servers: hostile and unusual answers.

use std::sync::{Arc, Mutex};

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::collection::Precondition;
use agap_adapter_api::files::FileAccount;

use super::*;
use crate::mock::{Answer, Request, multistatus, serve, serve_endless};

fn answer(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Answer {
    (status, headers, body.to_owned())
}

fn propstat(href: &str, props: &str) -> String {
    format!(
        r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
    )
}

/// An account of alice on `base` with the home `base`/files/alice/.
fn account_on(base: &Url) -> Arc<DavFileAccount> {
    let template = format!("{base}files/{{user}}/");
    DavFileBackend::new(&template).expect("backend").account(&Credentials::new("alice", "s3cret")).expect("account")
}

type Log = Arc<Mutex<Vec<Request>>>;

fn methods(log: &Log) -> Vec<String> {
    log.lock().expect("log").iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[tokio::test]
async fn hostile_names_and_hrefs_outside_the_home_are_refused_before_any_request() {
    let (base, log) = serve(|_| answer(500, Vec::new(), "")).await;
    let account = account_on(&base);
    let home = "/files/alice/";
    for name in ["", ".", "..", "a/b", "x\ny", "\u{0}", "\u{7f}"] {
        let put = account.put_file(home, name, b"x", &Precondition::Absent).await.expect_err(name);
        assert_eq!(put.kind(), AdapterErrorKind::Refused, "{name:?}: {put:?}");
        let mkcol = account.make_directory(home, name).await.expect_err(name);
        assert_eq!(mkcol.kind(), AdapterErrorKind::Refused, "{name:?}");
        let moved = account.move_file("/files/alice/a", home, name).await.expect_err(name);
        assert_eq!(moved.kind(), AdapterErrorKind::Refused, "{name:?}");
        let copied = account.copy_directory("/files/alice/d/", home, name).await.expect_err(name);
        assert_eq!(copied.kind(), AdapterErrorKind::Refused, "{name:?}");
    }
    for href in
        ["/files/bob/", "/files/alice/../bob/x", "/files/alice/%2e%2e/bob/", "http://evil.example/files/alice/x", "/"]
    {
        let listed = account.list_directory(href, 10).await.expect_err(href);
        assert_eq!(listed.kind(), AdapterErrorKind::Refused, "{href}: {listed:?}");
        assert_eq!(account.get_file(href, 10).await.expect_err(href).kind(), AdapterErrorKind::Refused, "{href}");
        assert_eq!(account.delete_directory(href).await.expect_err(href).kind(), AdapterErrorKind::Refused);
        let into = account.put_file(href, "x", b"x", &Precondition::Any).await.expect_err(href);
        assert_eq!(into.kind(), AdapterErrorKind::Refused, "{href}");
    }
    // The share itself is never deleted, moved into itself or copied into itself.
    assert_eq!(account.delete_directory(home).await.expect_err("home").kind(), AdapterErrorKind::Refused);
    let inside = account.move_directory("/files/alice/d/", "/files/alice/d/", "e").await.expect_err("into itself");
    assert_eq!(inside.kind(), AdapterErrorKind::Refused);
    assert_eq!(methods(&log), Vec::<String>::new(), "no request went out");
}

#[tokio::test]
async fn names_are_sent_percent_encoded_as_one_segment() {
    let (base, log) = serve(|request| match request.method.as_str() {
        "PUT" => answer(201, vec![("ETag", "\"1\"".into())], ""),
        "MKCOL" => answer(201, Vec::new(), ""),
        _ => answer(500, Vec::new(), ""),
    })
    .await;
    let account = account_on(&base);
    let written = account.put_file("/files/alice/", "a b%2F?#ü.txt", b"x", &Precondition::Absent).await.expect("put");
    assert_eq!(written, ItemRef { href: "/files/alice/a%20b%252F%3F%23%C3%BC.txt".into(), etag: Some("\"1\"".into()) });
    let made = account.make_directory("/files/alice/a%20b/", "100%").await.expect("mkcol");
    assert_eq!(made, "/files/alice/a%20b/100%25/");
    assert_eq!(methods(&log), ["PUT /files/alice/a%20b%252F%3F%23%C3%BC.txt", "MKCOL /files/alice/a%20b/100%25/"]);
    assert_eq!(log.lock().expect("log")[0].header("If-None-Match"), Some("*"));
}

#[tokio::test]
async fn listings_leave_out_members_outside_and_refuse_bad_xml_and_huge_answers() {
    let listing = multistatus(
        &[
            propstat("/files/alice/", "<D:resourcetype><D:collection/></D:resourcetype>"),
            propstat("/files/alice/a.txt", "<D:resourcetype/><D:getetag>\"1\"</D:getetag>"),
            propstat("/files/bob/b.txt", "<D:resourcetype/>"),
            propstat("http://elsewhere.example/files/alice/c.txt", "<D:resourcetype/>"),
        ]
        .concat(),
    );
    let (base, _) = serve(move |_| answer(207, Vec::new(), &listing)).await;
    let found = account_on(&base).list_directory("/files/alice/", 10).await.expect("listing");
    assert_eq!(found.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["a.txt"]);

    let (base, _) = serve(|_| answer(207, Vec::new(), "<D:multistatus xmlns:D=\"DAV:\"><D:response>")).await;
    let error = account_on(&base).list_directory("/files/alice/", 10).await.expect_err("bad XML");
    assert_eq!(error.kind(), AdapterErrorKind::Protocol, "{error:?}");

    // An endless answer is cut at the listing bound.
    let (base, written) = serve_endless(1 << 30).await;
    let error = account_on(&base).list_directory("/files/alice/", 10).await.expect_err("endless");
    assert_eq!(error.kind(), AdapterErrorKind::TooLarge, "{error:?}");
    assert!(written.load(std::sync::atomic::Ordering::SeqCst) < 256 << 20);
}

#[tokio::test]
async fn a_file_over_the_limit_is_not_read_whole() {
    let (base, written) = serve_endless(1 << 30).await;
    let error = account_on(&base).get_file("/files/alice/big", 1 << 20).await.expect_err("too large");
    assert_eq!(error.kind(), AdapterErrorKind::TooLarge, "{error:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(written.load(std::sync::atomic::Ordering::SeqCst) < 64 << 20);

    let (base, _) = serve(|_| answer(200, vec![("ETag", "W/\"3-x\"".into())], "abc")).await;
    let account = account_on(&base);
    let file = account.get_file("/files/alice/small", 3).await.expect("get").expect("found");
    assert_eq!((file.body.as_slice(), file.file.etag.as_deref()), (&b"abc"[..], Some("W/\"3-x\"")));
    assert_eq!(account.get_file("/files/alice/small", 2).await.expect_err("over").kind(), AdapterErrorKind::TooLarge);
}

#[tokio::test]
async fn a_write_without_etag_asks_for_it_and_a_server_without_any_gives_none() {
    let (base, log) = serve(|request| match request.method.as_str() {
        "PUT" => answer(201, Vec::new(), ""),
        "PROPFIND" if request.path.ends_with("/tagged") => answer(
            207,
            Vec::new(),
            &multistatus(&propstat(&request.path, "<D:resourcetype/><D:getetag>W/\"9-1\"</D:getetag>")),
        ),
        "PROPFIND" => answer(207, Vec::new(), &multistatus(&propstat(&request.path, "<D:resourcetype/>"))),
        _ => answer(500, Vec::new(), ""),
    })
    .await;
    let account = account_on(&base);
    let tagged = account.put_file("/files/alice/", "tagged", b"x", &Precondition::Any).await.expect("put");
    assert_eq!(tagged.etag.as_deref(), Some("W/\"9-1\""));
    let untagged = account.put_file("/files/alice/", "untagged", b"x", &Precondition::Any).await.expect("put");
    assert_eq!(untagged.etag, None);
    assert_eq!(
        methods(&log),
        [
            "PUT /files/alice/tagged",
            "PROPFIND /files/alice/tagged",
            "PUT /files/alice/untagged",
            "PROPFIND /files/alice/untagged"
        ]
    );
}

#[tokio::test]
async fn a_weak_etag_guards_a_write_once_the_server_gives_its_strong_form() {
    let asked = Arc::new(Mutex::new(0));
    let counter = asked.clone();
    let (base, log) = serve(move |request| match request.method.as_str() {
        "PROPFIND" => {
            let mut asked = counter.lock().expect("count");
            *asked += 1;
            let etag = if *asked < 3 { "W/\"5-1\"" } else { "\"5-1\"" };
            answer(
                207,
                Vec::new(),
                &multistatus(&propstat(&request.path, &format!("<D:resourcetype/><D:getetag>{etag}</D:getetag>"))),
            )
        }
        "PUT" => answer(204, vec![("ETag", "\"6-2\"".into())], ""),
        _ => answer(500, Vec::new(), ""),
    })
    .await;
    let account = account_on(&base);
    let written = account
        .put_file("/files/alice/", "f", b"new", &Precondition::Unchanged("W/\"5-1\"".into()))
        .await
        .expect("put");
    assert_eq!(written.etag.as_deref(), Some("\"6-2\""));
    let put = log.lock().expect("log").iter().find(|r| r.method == "PUT").cloned().expect("a PUT");
    assert_eq!(put.header("If-Match"), Some("\"5-1\""), "conditioned on the strong form");

    // Another version, weak or strong, is a conflict without any write.
    let (base, log) = serve(|request| match request.method.as_str() {
        "PROPFIND" => answer(
            207,
            Vec::new(),
            &multistatus(&propstat(&request.path, "<D:resourcetype/><D:getetag>W/\"7-3\"</D:getetag>")),
        ),
        _ => answer(204, Vec::new(), ""),
    })
    .await;
    let error = account_on(&base)
        .put_file("/files/alice/", "f", b"new", &Precondition::Unchanged("W/\"5-1\"".into()))
        .await
        .expect_err("changed");
    assert_eq!(error.kind(), AdapterErrorKind::Conflict);
    assert!(methods(&log).iter().all(|m| m.starts_with("PROPFIND")), "{:?}", methods(&log));
}

#[tokio::test]
async fn deleting_a_file_never_deletes_a_directory() {
    let (base, log) = serve(|request| match request.method.as_str() {
        "PROPFIND" => answer(
            207,
            Vec::new(),
            &multistatus(&propstat(&request.path, "<D:resourcetype><D:collection/></D:resourcetype>")),
        ),
        _ => answer(204, Vec::new(), ""),
    })
    .await;
    let error = account_on(&base).delete_file("/files/alice/dir", None).await.expect_err("a directory");
    assert_eq!(error.kind(), AdapterErrorKind::Refused);
    assert_eq!(methods(&log), ["PROPFIND /files/alice/dir"]);
}

#[tokio::test]
async fn statuses_become_the_errors_the_core_expects() {
    let (base, _) = serve(|request| match (request.method.as_str(), request.path.as_str()) {
        ("MKCOL", "/files/alice/missing/x/") => answer(409, Vec::new(), ""),
        ("MKCOL", _) => answer(405, Vec::new(), ""),
        ("PUT", "/files/alice/missing/x") => answer(409, Vec::new(), ""),
        ("PUT", _) => answer(412, Vec::new(), ""),
        ("PROPFIND", _) => answer(207, Vec::new(), &multistatus(&propstat(&request.path, "<D:resourcetype/>"))),
        ("MOVE", _) => answer(412, Vec::new(), ""),
        _ => answer(500, Vec::new(), ""),
    })
    .await;
    let account = account_on(&base);
    let kind = |result: AdapterResult<String>| result.expect_err("refused").kind();
    assert_eq!(kind(account.make_directory("/files/alice/missing/", "x").await), AdapterErrorKind::NotFound);
    assert_eq!(kind(account.make_directory("/files/alice/", "exists").await), AdapterErrorKind::AlreadyExists);
    let put = |directory: &'static str, precondition: Precondition| {
        let account = account.clone();
        async move { account.put_file(directory, "x", b"x", &precondition).await.expect_err("refused").kind() }
    };
    assert_eq!(put("/files/alice/missing/", Precondition::Any).await, AdapterErrorKind::NotFound);
    assert_eq!(put("/files/alice/", Precondition::Absent).await, AdapterErrorKind::AlreadyExists);
    assert_eq!(put("/files/alice/", Precondition::Unchanged("\"1\"".into())).await, AdapterErrorKind::Conflict);
    let moved = account.move_file("/files/alice/a", "/files/alice/", "b").await.expect_err("exists");
    assert_eq!(moved.kind(), AdapterErrorKind::AlreadyExists);
}

#[tokio::test]
async fn discovery_takes_a_principal_collection_else_the_url_itself() {
    let principal = |href: &str| {
        multistatus(&propstat(
            "/dav/",
            &format!("<D:current-user-principal><D:href>{href}</D:href></D:current-user-principal>"),
        ))
    };
    let collection = multistatus(&propstat("/p/alice/", "<D:resourcetype><D:collection/></D:resourcetype>"));
    let plain = multistatus(&propstat("/p/alice/", "<D:resourcetype><D:principal/></D:resourcetype>"));
    for (principal_type, expected) in [(collection, "/p/alice/"), (plain, "/dav/")] {
        let (base, _) = {
            let principal = principal("/p/alice/");
            serve(move |request| match request.path.as_str() {
                "/dav/" => answer(207, Vec::new(), &principal),
                _ => answer(207, Vec::new(), &principal_type),
            })
            .await
        };
        let backend = DavFileBackend::new(base.join("/dav/").expect("url").as_str()).expect("backend");
        let account = backend.account(&Credentials::new("alice", "pw")).expect("account");
        assert_eq!(account.home().await.expect("home"), expected);
    }
    // No principal (Apache: a 404 propstat), or one on another server: the URL, or an error.
    let (base, _) = serve(|_| answer(207, Vec::new(), &multistatus("<D:response><D:href>/dav</D:href><D:propstat><D:prop><D:current-user-principal/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>"))).await;
    let account = DavFileBackend::new(base.join("/dav").expect("url").as_str())
        .expect("backend")
        .account(&Credentials::new("alice", "pw"))
        .expect("account");
    assert_eq!(account.home().await.expect("home"), "/dav/");
    let elsewhere = principal("http://evil.example/p/alice/");
    let (base, _) = serve(move |_| answer(207, Vec::new(), &elsewhere)).await;
    let account = DavFileBackend::new(base.as_str())
        .expect("backend")
        .account(&Credentials::new("alice", "pw"))
        .expect("account");
    assert_eq!(account.home().await.expect_err("other origin").kind(), AdapterErrorKind::Protocol);
    let (base, _) = serve(|_| answer(401, Vec::new(), "")).await;
    let account = DavFileBackend::new(base.as_str())
        .expect("backend")
        .account(&Credentials::new("alice", "pw"))
        .expect("account");
    assert_eq!(account.home().await.expect_err("refused").kind(), AdapterErrorKind::AuthenticationFailed);
}
