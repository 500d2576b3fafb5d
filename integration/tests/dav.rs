//! The WebDAV client of the DAV adapters against the pair's real DAV server: discovery from the server root
//! (RFC 6764, RFC 5397) and listing of collections made by another DAV client.

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_dav::{CollectionKind, DavClient};
use url::Url;

use crate::harness::{dav_root, password};

fn root() -> Url {
    dav_root()
}

/// Creates a collection as another DAV client would: MKCALENDAR (RFC 4791 5.3.1) or extended
/// MKCOL (RFC 5689) with the given body.
pub(crate) async fn make(user: &str, url: &Url, method: &str, body: &str) {
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
    let client = DavClient::new(&root(), user, &password(user)).expect("client");
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
    // The component set asked for; a server that ignores it (Xandikos 0.2.8) accepts them all,
    // and the gateway's mark gives a folder's type there (docs/calendars.md).
    let CollectionKind::Calendar { components } = &task_list.kind else { panic!("a calendar: {task_list:?}") };
    let everything = ["VEVENT", "VTODO", "VJOURNAL"].iter().all(|c| components.iter().any(|found| found == c));
    assert!(components == &["VTODO"] || everything, "{components:?}");
    assert_eq!(task_list.display_name.as_deref(), Some("Tasks & more"));
    assert!(task_list.ctag.is_some() || task_list.sync_token.is_some(), "a change marker: {task_list:?}");
    let address_book = found.iter().find(|c| c.url.path() == book.path()).expect("the address book");
    assert_eq!(address_book.kind, CollectionKind::AddressBook);
    assert_eq!(address_book.display_name.as_deref(), Some("Book"));
}

#[tokio::test]
async fn discovery_reports_bad_credentials() {
    let client = DavClient::new(&root(), "bob", "not-the-password").expect("client");
    let error = client.discover(&root(), "carddav").await.expect_err("refused");
    assert_eq!(error.kind(), AdapterErrorKind::AuthenticationFailed, "{error:?}");
}

// ---- The collection backend (agap_adapter_dav::DavBackend) against Radicale. Accounts used
// here and nowhere else: user31 (collections), user32 (calendar items), user33 (multiget, copy,
// move), user34 (sync-collection), user35 (contacts).

mod backend {
    use std::sync::Arc;

    use agap_adapter_api::collection::{
        CollectionAccount, CollectionBackend, ItemKind, ItemRef, MarkOutcome, Precondition,
    };
    use agap_adapter_api::query::Query;
    use agap_adapter_api::{AdapterErrorKind, Credentials};
    use agap_adapter_dav::{DavAccount, DavBackend};
    use url::Url;

    use super::{make, root};
    use crate::harness::password;

    fn backend() -> DavBackend {
        DavBackend::new(root())
    }

    async fn open(user: &str) -> Arc<dyn CollectionAccount> {
        backend().open(&Credentials::new(user, password(user))).await.expect("open")
    }

    fn account(user: &str) -> Arc<DavAccount> {
        backend().account(&Credentials::new(user, password(user))).expect("account")
    }

    fn event(uid: &str, summary: &str, start: &str) -> Vec<u8> {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//agap//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
             DTSTAMP:20240101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        .into_bytes()
    }

    fn todo(uid: &str, summary: &str) -> Vec<u8> {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//agap//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
             DTSTAMP:20240101T000000Z\r\nSUMMARY:{summary}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
        )
        .into_bytes()
    }

    fn vcard(uid: &str, name: &str, email: &str) -> Vec<u8> {
        format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEMAIL:{email}\r\nEND:VCARD\r\n"
        )
        .into_bytes()
    }

    /// The content lines of an iCalendar or vCard body, in any order: Radicale stores what it
    /// parsed, re-serialised (property order changes).
    fn lines(body: &[u8]) -> std::collections::BTreeSet<String> {
        String::from_utf8_lossy(body).lines().map(|line| line.trim_end_matches('\r').to_owned()).collect()
    }

    fn hrefs(items: &[ItemRef]) -> Vec<String> {
        items.iter().map(|i| i.href.clone()).collect()
    }

    /// A request of another DAV client; returns the status.
    async fn other_client(user: &str, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> u16 {
        let url = root().join(path).expect("url");
        let response = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), url)
            .basic_auth(user, Some(password(user)))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        response.status().as_u16()
    }

    #[tokio::test]
    async fn collections_of_every_kind_carry_kind_mark_and_version() {
        let user = "user31";
        let account = open(user).await;
        let kinds = [
            (ItemKind::Events, "CALE /Kalender", "Kalender"),
            (ItemKind::Tasks, "TASK /Aufgaben & mehr", "Aufgaben & mehr"),
            (ItemKind::Journals, "JRNL /Tagebuch", "Tagebuch"),
            (ItemKind::Contacts, "ADDR /Adressen <privat>", "Adressen <privat>"),
        ];
        // Where the server keeps dead properties the mark is read back from the collection; where
        // it keeps none (Xandikos) it is dropped, consistently, and the gateway's store keeps it.
        let mut created = Vec::new();
        for (kind, mark, name) in kinds {
            let info = account.create_collection(kind, mark, name).await.expect("create");
            assert!(info.id.starts_with('/') && info.id.ends_with('/'), "{info:?}");
            assert!(info.accepts.contains(&kind), "{info:?}");
            created.push((info, kind, mark, name));
        }
        let keeps_marks = created[0].0.agap_mark.is_some();
        for (info, kind, mark, name) in &created {
            assert_eq!(
                (&info.agap_mark, info.display_name.as_deref()),
                (&keeps_marks.then(|| mark.to_string()), Some(*name))
            );
            if keeps_marks || info.accepts.len() == 1 {
                assert_eq!(info.kind, *kind, "{info:?}");
            }
        }
        let created: Vec<_> = created.into_iter().map(|(info, ..)| info).collect();
        let listed = account.list_collections().await.expect("list");
        for info in &created {
            let found = listed.iter().find(|c| c.id == info.id).unwrap_or_else(|| panic!("{info:?} in {listed:?}"));
            assert_eq!(
                (found.kind, &found.agap_mark, &found.display_name),
                (info.kind, &info.agap_mark, &info.display_name)
            );
            assert!(found.version.is_some(), "{found:?}");
        }

        let tasks = &created[1];
        let outcome = account.set_mark(&tasks.id, "TASK /Erledigt", "Erledigt").await.expect("set_mark");
        assert_eq!(outcome, if keeps_marks { MarkOutcome::Kept } else { MarkOutcome::NotKept });
        let listed = account.list_collections().await.expect("list");
        let found = listed.iter().find(|c| c.id == tasks.id).expect("still there");
        assert_eq!(found.agap_mark.as_deref(), keeps_marks.then_some("TASK /Erledigt"));
        assert_eq!(found.display_name.as_deref(), Some("Erledigt"), "the display name is set either way");

        account.delete_collection(&created[2].id).await.expect("delete");
        let listed = account.list_collections().await.expect("list");
        assert!(listed.iter().all(|c| c.id != created[2].id), "{listed:?}");
        let error = account.delete_collection(&created[2].id).await.expect_err("gone");
        assert_eq!(error.kind(), AdapterErrorKind::NotFound, "{error:?}");
    }

    #[tokio::test]
    async fn bad_credentials_fail_on_first_use() {
        let account = backend().open(&Credentials::new("user31", "wrong-password")).await.expect("open is lazy");
        let error = account.list_collections().await.expect_err("refused");
        assert_eq!(error.kind(), AdapterErrorKind::AuthenticationFailed, "{error:?}");
        assert!(!error.reason().contains("wrong-password"));
    }

    #[tokio::test]
    async fn calendar_items_written_read_listed_and_queried() {
        let user = "user32";
        let dav = account(user);
        let home = dav.homes().await.expect("homes").calendar.clone().expect("calendar home");
        // A calendar of another client, without component restriction (RFC 4791 5.2.3: all).
        let mixed: Url = home.join("mixed/").expect("url");
        make(
            user,
            &mixed,
            "MKCALENDAR",
            r#"<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Mixed</D:displayname></D:prop></D:set></C:mkcalendar>"#,
        )
        .await;
        let account: Arc<dyn CollectionAccount> = dav.clone();
        let listed = account.list_collections().await.expect("list");
        let collection = listed.iter().find(|c| c.id == mixed.path()).expect("the mixed calendar");
        assert_eq!((collection.kind, collection.agap_mark.as_deref()), (ItemKind::Events, None));
        let id = collection.id.clone();

        let dentist = format!("{id}dentist.ics");
        let written = account
            .put_item(
                &dentist,
                ItemKind::Events,
                &event("dentist", "Dentist Müller", "20240305T090000Z"),
                &Precondition::Absent,
            )
            .await
            .expect("put");
        assert_eq!(written.href, dentist);
        let first_etag = written.etag.clone().expect("an ETag");
        let again = account
            .put_item(&dentist, ItemKind::Events, &event("dentist", "Other", "20240305T090000Z"), &Precondition::Absent)
            .await
            .expect_err("exists");
        assert_eq!(again.kind(), AdapterErrorKind::AlreadyExists, "{again:?}");
        let stale = account
            .put_item(
                &dentist,
                ItemKind::Events,
                &event("dentist", "Stale", "20240305T090000Z"),
                &Precondition::Unchanged("\"stale\"".into()),
            )
            .await
            .expect_err("stale");
        assert_eq!(stale.kind(), AdapterErrorKind::Conflict, "{stale:?}");
        let body = event("dentist", "Dentist Müller & Sohn", "20240305T090000Z");
        let updated = account
            .put_item(&dentist, ItemKind::Events, &body, &Precondition::Unchanged(first_etag.clone()))
            .await
            .expect("update");
        assert_ne!(updated.etag.as_deref(), Some(first_etag.as_str()));
        let got = account.get_item(&dentist, ItemKind::Events).await.expect("get").expect("exists");
        assert_eq!(lines(&got.body), lines(&body));
        assert_eq!(got.item, updated);
        assert_eq!(account.get_item(&format!("{id}nothing.ics"), ItemKind::Events).await.expect("get"), None);

        let party = format!("{id}party.ics");
        account
            .put_item(&party, ItemKind::Events, &event("party", "Garden party", "20240720T180000Z"), &Precondition::Any)
            .await
            .expect("put");
        let chore = format!("{id}chore.ics");
        account
            .put_item(&chore, ItemKind::Tasks, &todo("chore", "Dentist bill"), &Precondition::Absent)
            .await
            .expect("put");

        let events = account.list_items(&id, ItemKind::Events).await.expect("list");
        assert_eq!(hrefs(&events), [dentist.clone(), party.clone()]);
        assert!(events.iter().all(|e| e.etag.is_some()));
        let tasks = account.list_items(&id, ItemKind::Tasks).await.expect("list");
        assert_eq!(hrefs(&tasks), std::slice::from_ref(&chore));
        assert!(account.list_items(&id, ItemKind::Journals).await.expect("list").is_empty());

        let all = account.query_items(&id, ItemKind::Events, &Query::All).await.expect("query");
        assert!(all.exact);
        assert_eq!(hrefs(&all.items), [dentist.clone(), party.clone()]);
        // A query answers a superset of the matches (exact: false), which the core checks: a
        // server may narrow it (a text-match, a time-range) or fail the report (then every
        // event comes). Never too few, never what is no event.
        let superset = |found: &agap_adapter_api::collection::FoundItems, matches: &[&String]| {
            assert!(!found.exact, "{found:?}");
            let found = hrefs(&found.items);
            for href in matches {
                assert!(found.contains(href), "{href} in {found:?}");
            }
            assert!(found.iter().all(|href| *href == dentist || *href == party), "{found:?}");
        };
        let text = Query::FieldContains { field: "summary".into(), text: "DENTIST".into() };
        superset(&account.query_items(&id, ItemKind::Events, &text).await.expect("query"), &[&dentist]);
        // Beyond ASCII: not every server folds case there (RFC 4791 7.5.1 asks only for
        // i;ascii-casemap); nothing is left out all the same.
        let umlaut = Query::FieldContains { field: "SUMMARY".into(), text: "MÜLLER".into() };
        superset(&account.query_items(&id, ItemKind::Events, &umlaut).await.expect("query"), &[&dentist]);
        let exact_umlaut = Query::FieldContains { field: "SUMMARY".into(), text: "Müller".into() };
        superset(&account.query_items(&id, ItemKind::Events, &exact_umlaut).await.expect("query"), &[&dentist]);
        let march = Query::TimeRange { start: Some("20240301T000000Z".into()), end: Some("20240401T000000Z".into()) };
        superset(&account.query_items(&id, ItemKind::Events, &march).await.expect("query"), &[&dentist]);
        let either = Query::Or(vec![
            Query::FieldContains { field: "SUMMARY".into(), text: "garden".into() },
            Query::FieldContains { field: "SUMMARY".into(), text: "dentist".into() },
        ]);
        superset(&account.query_items(&id, ItemKind::Events, &either).await.expect("query"), &[&dentist, &party]);
        let both = Query::And(vec![text.clone(), march.clone(), umlaut.clone()]);
        superset(&account.query_items(&id, ItemKind::Events, &both).await.expect("query"), &[&dentist]);

        let error = account.delete_item(&party, Some("\"stale\"")).await.expect_err("stale");
        assert_eq!(error.kind(), AdapterErrorKind::Conflict, "{error:?}");
        let party_etag = events.iter().find(|e| e.href == party).and_then(|e| e.etag.clone());
        assert!(account.delete_item(&party, party_etag.as_deref()).await.expect("delete"));
        assert!(!account.delete_item(&party, None).await.expect("already gone"));
        assert_eq!(hrefs(&account.list_items(&id, ItemKind::Events).await.expect("list")), [dentist]);
    }

    #[tokio::test]
    async fn contacts_written_and_queried() {
        let user = "user35";
        let account = open(user).await;
        let book = account.create_collection(ItemKind::Contacts, "ADDR /Kontakte", "Kontakte").await.expect("create");
        let id = book.id.clone();
        let ann = format!("{id}ann.vcf");
        let bob = format!("{id}bob.vcf");
        let jurgen = format!("{id}j%C3%BCrgen%20x.vcf");
        for (href, uid, name, email) in [
            (&ann, "ann", "Ann Smith", "ann@example.com"),
            (&bob, "bob", "Bob Jones", "bob@example.org"),
            (&jurgen, "jurgen", "Jürgen Groß", "j@example.net"),
        ] {
            let written =
                account.put_item(href, ItemKind::Contacts, &vcard(uid, name, email), &Precondition::Absent).await;
            assert_eq!(&written.expect("put").href, href);
        }
        let listed = account.list_items(&id, ItemKind::Contacts).await.expect("list");
        let mut expected = vec![ann.clone(), bob.clone(), jurgen.clone()];
        expected.sort();
        assert_eq!(hrefs(&listed), expected);
        let got = account.get_item(&jurgen, ItemKind::Contacts).await.expect("get").expect("exists");
        assert_eq!(lines(&got.body), lines(&vcard("jurgen", "Jürgen Groß", "j@example.net")));

        // Supersets of the matches, as for calendars: an addressbook-query the server fails
        // (Xandikos 0.2.8: 500 for any prop-filter) gives every contact.
        let superset = |found: &agap_adapter_api::collection::FoundItems, matches: &[&String]| {
            assert!(!found.exact, "{found:?}");
            let found = hrefs(&found.items);
            for href in matches {
                assert!(found.contains(href), "{href} in {found:?}");
            }
            assert!(found.iter().all(|href| expected.contains(href)), "{found:?}");
        };
        let fn_ann = Query::FieldContains { field: "FN".into(), text: "aNN".into() };
        superset(&account.query_items(&id, ItemKind::Contacts, &fn_ann).await.expect("query"), &[&ann]);
        let either = Query::Or(vec![
            fn_ann.clone(),
            Query::FieldContains { field: "EMAIL".into(), text: "@EXAMPLE.ORG".into() },
        ]);
        superset(&account.query_items(&id, ItemKind::Contacts, &either).await.expect("query"), &[&ann, &bob]);
        let not_ann = Query::Not(Box::new(fn_ann.clone()));
        superset(&account.query_items(&id, ItemKind::Contacts, &not_ann).await.expect("query"), &[&bob, &jurgen]);
        let umlaut = Query::FieldContains { field: "FN".into(), text: "JÜRGEN".into() };
        superset(&account.query_items(&id, ItemKind::Contacts, &umlaut).await.expect("query"), &[&jurgen]);

        let fetched =
            account.fetch_items(&id, ItemKind::Contacts, &[jurgen.clone(), ann.clone()]).await.expect("fetch");
        assert_eq!(fetched.len(), 2);
        assert!(fetched.iter().all(|item| item.item.etag.is_some()));
    }

    #[tokio::test]
    async fn multiget_copy_and_move() {
        let user = "user33";
        let account = open(user).await;
        let first = account.create_collection(ItemKind::Events, "CALE /Eins", "Eins").await.expect("create").id;
        let second = account.create_collection(ItemKind::Events, "CALE /Zwei", "Zwei").await.expect("create").id;
        let a = format!("{first}a.ics");
        let b = format!("{first}b&c.ics");
        let a_body = event("a", "Alpha", "20240101T100000Z");
        let b_body = event("b", "Beta <&>", "20240102T100000Z");
        account.put_item(&a, ItemKind::Events, &a_body, &Precondition::Absent).await.expect("put");
        account.put_item(&b, ItemKind::Events, &b_body, &Precondition::Absent).await.expect("put");

        let missing = format!("{first}missing.ics");
        let mut fetched =
            account.fetch_items(&first, ItemKind::Events, &[a.clone(), missing, b.clone()]).await.expect("fetch");
        fetched.sort_by(|x, y| x.item.href.cmp(&y.item.href));
        assert_eq!(fetched.iter().map(|f| f.item.href.clone()).collect::<Vec<_>>(), [a.clone(), b.clone()]);
        assert_eq!(lines(&fetched[0].body), lines(&a_body));
        assert_eq!(lines(&fetched[1].body), lines(&b_body));
        let got = account.get_item(&a, ItemKind::Events).await.expect("get").expect("exists");
        assert_eq!(fetched[0].body, got.body, "multiget and GET give the same bytes");
        assert_eq!(fetched[0].item, got.item);

        // A server may keep an iCalendar UID unique among all of a user's calendars (RFC 6638
        // 3.2.4.1, which Cyrus asks of every event): then the copy is refused as UidInUse (the
        // core copies with a fresh UID), and a resource with another UID goes in instead.
        let copied = match account.copy_item(&a, ItemKind::Events, &second).await {
            Ok(copied) => copied,
            Err(error) => {
                assert_eq!(error.kind(), AdapterErrorKind::UidInUse, "{error:?}");
                assert!(account.get_item(&format!("{second}a.ics"), ItemKind::Events).await.expect("get").is_none());
                let a_body = event("a-copy", "Alpha", "20240101T100000Z");
                let target = format!("{second}a.ics");
                account.put_item(&target, ItemKind::Events, &a_body, &Precondition::Absent).await.expect("put")
            }
        };
        assert_eq!(copied.href, format!("{second}a.ics"));
        assert!(copied.etag.is_some());
        assert!(account.get_item(&a, ItemKind::Events).await.expect("get").is_some(), "the source stays");
        let copy = account.get_item(&copied.href, ItemKind::Events).await.expect("get").expect("copy");
        let summary =
            |body: &[u8]| lines(body).into_iter().filter(|line| line.starts_with("SUMMARY")).collect::<Vec<_>>();
        assert_eq!(summary(&copy.body), summary(&a_body));
        let error = account.copy_item(&a, ItemKind::Events, &second).await.expect_err("exists");
        assert!([AdapterErrorKind::AlreadyExists, AdapterErrorKind::UidInUse].contains(&error.kind()), "{error:?}");

        let moved = account.move_item(&b, ItemKind::Events, &second).await.expect("move");
        assert_eq!(moved.href, format!("{second}b&c.ics"));
        assert!(moved.etag.is_some());
        assert!(account.get_item(&b, ItemKind::Events).await.expect("get").is_none(), "the source is gone");
        assert_eq!(
            hrefs(&account.list_items(&second, ItemKind::Events).await.expect("list")),
            [copied.href, moved.href]
        );
        let error = account.move_item(&a, ItemKind::Events, &second).await.expect_err("exists");
        assert_eq!(error.kind(), AdapterErrorKind::AlreadyExists, "{error:?}");
    }

    #[tokio::test]
    async fn sync_collection_reports_changes_of_other_clients() {
        let user = "user34";
        let account = open(user).await;
        let id = account.create_collection(ItemKind::Tasks, "TASK /Sync", "Sync").await.expect("create").id;
        let one = format!("{id}one.ics");
        let two = format!("{id}two.ics");
        account.put_item(&one, ItemKind::Tasks, &todo("one", "One"), &Precondition::Absent).await.expect("put");
        account.put_item(&two, ItemKind::Tasks, &todo("two", "Two"), &Precondition::Absent).await.expect("put");

        let initial = account.sync_changes(&id, None).await.expect("sync").expect("supported");
        assert_eq!(hrefs(&initial.changed), [one.clone(), two.clone()]);
        assert!(initial.removed.is_empty());
        let unchanged = account.sync_changes(&id, Some(&initial.token)).await.expect("sync").expect("supported");
        assert!(unchanged.changed.is_empty() && unchanged.removed.is_empty(), "{unchanged:?}");

        let status = other_client(user, "PUT", &one, "text/calendar", todo("one", "One changed")).await;
        assert!((200..300).contains(&status), "PUT {status}");
        let status = other_client(user, "DELETE", &two, "text/plain", Vec::new()).await;
        assert!((200..300).contains(&status), "DELETE {status}");
        let changes = account.sync_changes(&id, Some(&initial.token)).await.expect("sync").expect("supported");
        assert_eq!(hrefs(&changes.changed), std::slice::from_ref(&one));
        assert_ne!(changes.changed[0].etag, initial.changed[0].etag);
        assert_eq!(changes.removed, [two]);
        assert_ne!(changes.token, initial.token);

        let unknown = account.sync_changes(&id, Some("http://radicale.invalid/sync/nope")).await.expect("sync");
        assert_eq!(unknown, None);
    }
}
