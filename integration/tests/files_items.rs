//! FILE folders end to end (draft 2.11.5; docs/files.md): the gateway on the pair's mail server
//! and the harness's Apache mod_dav file server, checked against what another WebDAV client (plain
//! reqwest) puts there and sees. Each test has its own account (user85 and up), so its own
//! directory.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{Client, TestGateway, files_home, password, with_files};

/// A request of another WebDAV client, as `user`, to `path` below the user's home.
async fn other_client(user: &str, method: &str, path: &str, body: Option<&[u8]>) -> reqwest::Response {
    let url = files_home(user).join(path).expect("url");
    let mut request = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url)
        .basic_auth(user, Some(password(user)));
    if method == "PROPFIND" {
        request = request.header("Depth", "1");
    }
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    request.send().await.expect("request")
}

/// The hrefs another client's PROPFIND Depth 1 of `path` names (the directory itself included).
async fn listed(user: &str, path: &str) -> Vec<String> {
    let response = other_client(user, "PROPFIND", path, None).await;
    assert_eq!(response.status(), 207, "PROPFIND {path}");
    let body = response.text().await.expect("body");
    body.split("<D:href>").skip(1).filter_map(|rest| rest.split("</D:href>").next()).map(str::to_owned).collect()
}

async fn gateway_with_files() -> TestGateway {
    TestGateway::start_with(with_files).await
}

/// The UIDs a FIND with `filter` answers in the selected folder.
async fn find(client: &mut Client, filter: &[&str]) -> Vec<String> {
    let reply = client.filtered("FIND", filter).await;
    assert_eq!(reply.code, 200, "{reply:?}");
    reply.lines
}

/// The bytes of a base64 CONTENT in a RETR reply.
fn content_of(lines: &[String]) -> Vec<u8> {
    let start = lines.iter().position(|line| line.starts_with("<CONTENT")).expect("CONTENT") + 1;
    let mut text = String::new();
    for line in &lines[start..] {
        text.push_str(line.trim_end_matches("</CONTENT>"));
        if line.ends_with("</CONTENT>") {
            break;
        }
    }
    STANDARD.decode(text).expect("base64")
}

fn uid_of(reply: &crate::harness::Reply) -> String {
    reply.text.rsplit("UID is ").next().expect("UID").trim_end_matches(')').to_owned()
}

#[tokio::test]
async fn files_of_another_client_are_listed_found_and_read_and_stored_files_reach_it() {
    let user = "user85";
    let binary: Vec<u8> = (0..=255u8).chain(b"tail".iter().copied()).collect();
    assert!(other_client(user, "PUT", "other.bin", Some(&binary)).await.status().is_success());
    assert!(other_client(user, "MKCOL", "sub/", None).await.status().is_success());
    assert!(other_client(user, "PUT", "sub/note.txt", Some(b"sure.")).await.status().is_success());

    let gateway = gateway_with_files().await;
    let mut client = gateway.client().await;
    let capa = client.expect("CAPA", 200).await;
    assert!(capa.lines.contains(&"FILE".to_owned()), "{capa:?}");
    client.login(user).await;
    let root = client.expect("LIST /*", 200).await;
    assert!(root.lines.contains(&"FILE /FILESHARE".to_owned()), "{root:?}");
    let share = client.expect("LIST /FILESHARE/*", 200).await;
    assert_eq!(share.lines, ["FILE /FILESHARE/sub"]);

    client.expect("SLCT /FILESHARE", 200).await;
    let stat = client.expect("STAT", 200).await;
    assert!(stat.lines.contains(&"TAGS RESERVED PUBLIC".to_owned()), "{stat:?}");
    assert!(stat.lines.contains(&"TOTAL 1".to_owned()), "{stat:?}");
    let all = find(&mut client, &[]).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(find(&mut client, &["IS /FILE/NAME = 'other.bin'"]).await, all);
    assert!(find(&mut client, &["IS /FILE/NAME = 'none'"]).await.is_empty());
    let retr = client.expect(&format!("RETR {}", all[0]), 200).await;
    assert_eq!(retr.lines[1], "<NAME>other.bin</NAME>");
    assert_eq!(content_of(&retr.lines), binary);
    let name = client.expect(&format!("RETR {} /FILE/NAME", all[0]), 200).await;
    assert_eq!(name.lines, ["other.bin"]);

    client.expect("SLCT /FILESHARE/sub", 200).await;
    let note = find(&mut client, &["IS /FILE/CONTENT = 'sure.'"]).await;
    assert_eq!(note.len(), 1);
    let text = client.expect(&format!("RETR {} UTF-8", note[0]), 200).await;
    assert_eq!(text.lines[2], "<CONTENT ENCODED=\"utf-8\">sure.</CONTENT>");

    // Stored here, read there; stored again under the same name: replaced, same UID.
    let stored = client
        .stor(&["<FILE>", "<NAME>new file ü.txt</NAME>", "<CONTENT ENCODED=\"utf-8\">first</CONTENT>", "</FILE>"])
        .await;
    assert_eq!(stored.code, 200, "{stored:?}");
    let uid = uid_of(&stored);
    let read = other_client(user, "GET", "sub/new%20file%20%C3%BC.txt", None).await;
    assert_eq!(read.bytes().await.expect("body").as_ref(), b"first");
    let replaced =
        client.stor(&["<FILE>", "<NAME>new file ü.txt</NAME>", "<CONTENT>c2Vjb25k</CONTENT>", "</FILE>"]).await;
    assert_eq!((replaced.code, uid_of(&replaced)), (200, uid.clone()), "{replaced:?}");
    let read = other_client(user, "GET", "sub/new%20file%20%C3%BC.txt", None).await;
    assert_eq!(read.bytes().await.expect("body").as_ref(), b"second");

    // Tags are kept by the file server: a gateway with a fresh store reads them back.
    client.expect(&format!("STAG {uid} + FLAG=Red SEEN"), 200).await;
    assert_eq!(client.expect(&format!("GTAG {uid}"), 200).await.lines, ["FLAG=Red", "SEEN"]);
    assert_eq!(find(&mut client, &["TAG FLAG=Red"]).await, std::slice::from_ref(&uid));
    let other_gateway = gateway_with_files().await;
    let mut other = other_gateway.login(user).await;
    other.expect("SLCT /FILESHARE/sub", 200).await;
    let found = find(&mut other, &["TAG FLAG=Red"]).await;
    assert_eq!(found.len(), 1);
    assert_eq!(other.expect(&format!("GTAG {}", found[0]), 200).await.lines, ["FLAG=Red", "SEEN"]);

    // DELE removes it upstream.
    client.expect(&format!("DELE {uid}"), 200).await;
    assert_eq!(other_client(user, "GET", "sub/new%20file%20%C3%BC.txt", None).await.status(), 404);
    client.expect(&format!("RETR {uid}"), 511).await;
}

#[tokio::test]
async fn folders_are_directories_that_other_clients_see() {
    let user = "user86";
    let gateway = gateway_with_files().await;
    let mut client = gateway.login(user).await;
    client.expect("MAKE FILE /FILESHARE/a", 200).await;
    client.expect("MAKE FILE /FILESHARE/a/b", 200).await;
    assert!(listed(user, "a/").await.contains(&"/files/user86/a/b/".to_owned()));
    client.expect("MAKE MESG /FILESHARE/a/mail", 511).await;
    client.expect("MAKE FILE /INBOX/files", 511).await;
    client.expect("MAKE FILE /FILESHARE/.agap", 511).await;

    // A FILE folder outside /FILESHARE lives in the home's hidden .agap directory.
    client.expect("MAKE FILE /Docs", 200).await;
    assert!(listed(user, ".agap/").await.contains(&"/files/user86/.agap/Docs/".to_owned()));
    let root = client.expect("LIST /*", 200).await;
    assert!(root.lines.contains(&"FILE /Docs".to_owned()), "{root:?}");
    let share = client.expect("LIST /FILESHARE/*", 200).await;
    assert_eq!(share.lines, ["FILE /FILESHARE/a"], "the hidden directory is not shown");
    client.expect("MAKE FILE /Docs", 511).await;

    // Files copy and move between FILE folders.
    client.expect("SLCT /FILESHARE/a", 200).await;
    let fcid = |stat: &crate::harness::Reply| stat.lines.iter().find(|l| l.starts_with("FCID ")).cloned();
    let before = fcid(&client.expect("STAT", 200).await);
    let stored = client.stor(&["<FILE><NAME>f.txt</NAME><CONTENT>eA==</CONTENT></FILE>"]).await;
    assert_eq!(stored.code, 200, "{stored:?}");
    assert_ne!(fcid(&client.expect("STAT", 200).await), before, "a new file changes the FCID");
    let uid = uid_of(&stored);
    let copied = client.expect(&format!("COPY {uid} /Docs"), 200).await;
    assert!(copied.text.contains("UID"), "{copied:?}");
    client.expect(&format!("COPY {uid} /Docs"), 511).await;
    client.expect(&format!("MOVE {uid} /FILESHARE/a/b"), 200).await;
    assert!(listed(user, ".agap/Docs/").await.contains(&"/files/user86/.agap/Docs/f.txt".to_owned()));
    assert!(listed(user, "a/b/").await.contains(&"/files/user86/a/b/f.txt".to_owned()));
    assert!(!listed(user, "a/").await.contains(&"/files/user86/a/f.txt".to_owned()));

    // NAME moves the directory with its content; DELF deletes it.
    client.expect("NAME c", 200).await;
    let home = listed(user, "").await;
    assert!(home.contains(&"/files/user86/c/".to_owned()) && !home.contains(&"/files/user86/a/".to_owned()));
    assert!(listed(user, "c/b/").await.contains(&"/files/user86/c/b/f.txt".to_owned()));
    client.expect("SLCT /FILESHARE/c/b", 200).await;
    assert_eq!(find(&mut client, &[]).await.len(), 1);
    client.expect("SLCT /Docs", 200).await;
    client.expect("NAME Papers", 200).await;
    assert!(listed(user, ".agap/").await.contains(&"/files/user86/.agap/Papers/".to_owned()));
    client.expect("DELF", 200).await;
    assert!(!listed(user, ".agap/").await.contains(&"/files/user86/.agap/Papers/".to_owned()));
    client.expect("SLCT /FILESHARE", 200).await;
    client.expect("DELF", 511).await;
    client.expect("NAME other", 511).await;
    client.expect("SLCT /FILESHARE/c", 200).await;
    client.expect("DELF", 200).await;
    assert!(!listed(user, "").await.contains(&"/files/user86/c/".to_owned()));
}

#[tokio::test]
async fn bad_files_are_refused_and_nothing_is_stored() {
    let user = "user87";
    let gateway = TestGateway::start_with(|config| {
        with_files(config);
        config.mail.max_item_size = 4096;
    })
    .await;
    let mut client = gateway.login(user).await;
    client.expect("SLCT /FILESHARE", 200).await;
    let big = STANDARD.encode(vec![b'x'; 4097]);
    let bad: [&[&str]; 9] = [
        &["<FILE><CONTENT>eA==</CONTENT></FILE>"],
        &["<FILE><NAME>a/b</NAME><CONTENT>eA==</CONTENT></FILE>"],
        &["<FILE><NAME>..</NAME><CONTENT>eA==</CONTENT></FILE>"],
        &["<FILE><NAME>a&#9;b</NAME><CONTENT>eA==</CONTENT></FILE>"],
        &["<FILE><NAME>bad64</NAME><CONTENT>%%%%</CONTENT></FILE>"],
        &[
            "<FILE><NAME>big</NAME><CONTENT ENCODED=\"utf-8\">",
            &"y".repeat(1000),
            &"y".repeat(1000),
            &"y".repeat(1000),
            &"y".repeat(1000),
            &"y".repeat(200),
            "</CONTENT></FILE>",
        ],
        &[
            "<FILE><NAME>big64</NAME><CONTENT>",
            &big[..1000],
            &big[1000..2000],
            &big[2000..3000],
            &big[3000..4000],
            &big[4000..5000],
            &big[5000..],
            "</CONTENT></FILE>",
        ],
        &["<FILE><NAME>x</NAME><CONTENT>eA==</CONTENT><EXTRA/></FILE>"],
        &["<NOTE><SUBJECT>x</SUBJECT></NOTE>"],
    ];
    for lines in bad {
        let reply = client.stor(lines).await;
        assert_eq!(reply.code, 511, "{lines:?}: {reply:?}");
    }
    let home = listed(user, "").await;
    assert_eq!(home, ["/files/user87/"], "nothing was stored");
    assert!(find(&mut client, &[]).await.is_empty());
}
