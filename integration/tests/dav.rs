//! The WebDAV client of the DAV adapters against a real Radicale: discovery from the server root
//! (RFC 6764, RFC 5397) and listing of collections made by another DAV client.

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_dav::{CollectionKind, DavClient};
use url::Url;

use crate::harness::{password, radicale};

fn root() -> Url {
    Url::parse(&format!("http://127.0.0.1:{}/", radicale().port)).expect("url")
}

/// Creates a collection as another DAV client would: MKCALENDAR (RFC 4791 5.3.1) or extended
/// MKCOL (RFC 5689) with the given body.
async fn make(user: &str, url: &Url, method: &str, body: &str) {
    let response = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url.clone())
        .basic_auth(user, Some(password(user)))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    assert!(response.status().is_success(), "{method} {url}: {}", response.status());
}

#[tokio::test]
async fn discovers_homes_and_lists_collections() {
    let user = "alice";
    let client = DavClient::new(user, &password(user)).expect("client");
    let homes = client.discover(&root(), "caldav").await.expect("discover");
    assert!(homes.principal.path().trim_end_matches('/').ends_with(user), "{homes:?}");
    let calendars = homes.calendar_home.clone().expect("a calendar home");
    let contacts = homes.addressbook_home.clone().expect("an address book home");

    let tasks = calendars.join("agap-dav-tasks/").expect("url");
    make(
        user,
        &tasks,
        "MKCALENDAR",
        r#"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Tasks &amp; more</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#,
    )
    .await;
    let book = contacts.join("agap-dav-book/").expect("url");
    make(
        user,
        &book,
        "MKCOL",
        r#"<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Book</D:displayname></D:prop></D:set></D:mkcol>"#,
    )
    .await;

    let mut found = client.collections(&calendars).await.expect("collections");
    if contacts != calendars {
        found.extend(client.collections(&contacts).await.expect("collections"));
    }
    let task_list = found.iter().find(|c| c.url.path() == tasks.path()).expect("the task list");
    assert_eq!(task_list.kind, CollectionKind::Calendar { components: vec!["VTODO".into()] });
    assert_eq!(task_list.display_name.as_deref(), Some("Tasks & more"));
    assert!(task_list.ctag.is_some() || task_list.sync_token.is_some(), "a change marker: {task_list:?}");
    let address_book = found.iter().find(|c| c.url.path() == book.path()).expect("the address book");
    assert_eq!(address_book.kind, CollectionKind::AddressBook);
    assert_eq!(address_book.display_name.as_deref(), Some("Book"));
}

#[tokio::test]
async fn discovery_reports_bad_credentials() {
    let client = DavClient::new("bob", "not-the-password").expect("client");
    let error = client.discover(&root(), "carddav").await.expect_err("refused");
    assert_eq!(error.kind(), AdapterErrorKind::AuthenticationFailed, "{error:?}");
}
