//! XML request bodies (RFC 4918, 4791, 6352, 6578, 5689). Every text and attribute value is
//! escaped; text XML 1.0 cannot carry (control characters) is refused rather than sent.

use std::borrow::Cow;

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, collection::ItemKind};

use crate::client::NAMESPACES;

const PROLOG: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

/// Whether XML 1.0 can carry `c` (production Char).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` escaped for element content and attribute values.
pub fn escape(text: &str) -> AdapterResult<Cow<'_, str>> {
    if !text.chars().all(xml_char) {
        return Err(AdapterError::new(AdapterErrorKind::Refused, "the text holds characters XML cannot carry"));
    }
    Ok(quick_xml::escape::escape(text))
}

/// Whether `text` can go into a request at all.
pub fn is_xml_text(text: &str) -> bool {
    text.chars().all(xml_char)
}

/// DAV:displayname and the gateway's mark, as DAV:prop children.
fn name_and_mark(display_name: &str, mark: Option<&str>) -> AdapterResult<String> {
    let mut props = format!("<D:displayname>{}</D:displayname>", escape(display_name)?);
    if let Some(mark) = mark {
        props.push_str(&format!("<A:folder>{}</A:folder>", escape(mark)?));
    }
    Ok(props)
}

/// MKCALENDAR (RFC 4791 5.3.1) for one component, with display name and (optionally) mark.
pub fn mkcalendar(component: &str, display_name: &str, mark: Option<&str>) -> AdapterResult<String> {
    Ok(format!(
        "{PROLOG}<C:mkcalendar {NAMESPACES}><D:set><D:prop>{}<C:supported-calendar-component-set>\
         <C:comp name=\"{}\"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>",
        name_and_mark(display_name, mark)?,
        escape(component)?
    ))
}

/// Extended MKCOL (RFC 5689) of an address book (RFC 6352 6.3.1).
pub fn mkcol_addressbook(display_name: &str, mark: Option<&str>) -> AdapterResult<String> {
    Ok(format!(
        "{PROLOG}<D:mkcol {NAMESPACES}><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/>\
         </D:resourcetype>{}</D:prop></D:set></D:mkcol>",
        name_and_mark(display_name, mark)?
    ))
}

/// PROPPATCH setting display name and mark.
pub fn proppatch(display_name: &str, mark: Option<&str>) -> AdapterResult<String> {
    Ok(format!(
        "{PROLOG}<D:propertyupdate {NAMESPACES}><D:set><D:prop>{}</D:prop></D:set></D:propertyupdate>",
        name_and_mark(display_name, mark)?
    ))
}

/// PROPPATCH setting the gateway's tag property of a file to `tags`, or removing it.
pub fn proppatch_tags(tags: Option<&str>) -> AdapterResult<String> {
    let update = match tags {
        Some(tags) => format!("<D:set><D:prop><A:tags>{}</A:tags></D:prop></D:set>", escape(tags)?),
        None => "<D:remove><D:prop><A:tags/></D:prop></D:remove>".to_owned(),
    };
    Ok(format!("{PROLOG}<D:propertyupdate {NAMESPACES}>{update}</D:propertyupdate>"))
}

/// A calendar-query (RFC 4791 7.8) for ETags, `filter` being the inner XML of the comp-filter
/// of `component` (may be empty).
pub fn calendar_query(component: &str, filter: &str) -> String {
    format!(
        "{PROLOG}<C:calendar-query {NAMESPACES}><D:prop><D:getetag/></D:prop><C:filter>\
         <C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"{component}\">{filter}</C:comp-filter>\
         </C:comp-filter></C:filter></C:calendar-query>"
    )
}

/// An addressbook-query (RFC 6352 8.6) for ETags; `filter` is the whole CR:filter element.
pub fn addressbook_query(filter: &str) -> String {
    format!("{PROLOG}<CR:addressbook-query {NAMESPACES}><D:prop><D:getetag/></D:prop>{filter}</CR:addressbook-query>")
}

/// calendar-multiget (RFC 4791 7.9) or addressbook-multiget (RFC 6352 8.7) of `hrefs`.
pub fn multiget(kind: ItemKind, hrefs: &[String]) -> AdapterResult<String> {
    let mut body = String::from(PROLOG);
    let (element, data) = match kind {
        ItemKind::Contacts => ("CR:addressbook-multiget", "CR:address-data"),
        _ => ("C:calendar-multiget", "C:calendar-data"),
    };
    body.push_str(&format!("<{element} {NAMESPACES}><D:prop><D:getetag/><{data}/></D:prop>"));
    for href in hrefs {
        body.push_str(&format!("<D:href>{}</D:href>", escape(href)?));
    }
    body.push_str(&format!("</{element}>"));
    Ok(body)
}

/// sync-collection (RFC 6578 3.2), level 1, for ETags; the initial sync without a token.
pub fn sync_collection(token: Option<&str>) -> AdapterResult<String> {
    let token = match token {
        Some(token) => format!("<D:sync-token>{}</D:sync-token>", escape(token)?),
        None => "<D:sync-token/>".to_owned(),
    };
    Ok(format!(
        "{PROLOG}<D:sync-collection {NAMESPACES}>{token}<D:sync-level>1</D:sync-level>\
         <D:prop><D:getetag/></D:prop></D:sync-collection>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multistatus::{AGAP, CALDAV, CARDDAV, DAV, parse_tree};

    #[test]
    fn text_and_hrefs_are_escaped() {
        let body = mkcalendar("VTODO", "Tasks & <more>", Some("TASK /a&b")).expect("body");
        let tree = parse_tree(&body).expect("well-formed");
        let prop = tree.child(DAV, "set").and_then(|s| s.child(DAV, "prop")).expect("prop");
        assert_eq!(prop.child(DAV, "displayname").expect("name").text, "Tasks & <more>");
        assert_eq!(prop.child(AGAP, "folder").expect("mark").text, "TASK /a&b");
        let set = prop.child(CALDAV, "supported-calendar-component-set").expect("set");
        assert_eq!(set.child(CALDAV, "comp").and_then(|c| c.attribute("name")), Some("VTODO"));

        let body = multiget(ItemKind::Contacts, &["/a/b&c<d>.vcf".to_owned()]).expect("body");
        let tree = parse_tree(&body).expect("well-formed");
        assert!(tree.is(CARDDAV, "addressbook-multiget"));
        assert_eq!(tree.child(DAV, "href").expect("href").text, "/a/b&c<d>.vcf");
    }

    #[test]
    fn refuses_what_xml_cannot_carry() {
        assert!(proppatch("a\u{0}b", None).is_err());
        assert!(escape("tab\tok").is_ok());
    }

    #[test]
    fn address_book_creation_and_sync() {
        let tree = parse_tree(&mkcol_addressbook("Book", None).expect("body")).expect("well-formed");
        let prop = tree.child(DAV, "set").and_then(|s| s.child(DAV, "prop")).expect("prop");
        let types = prop.child(DAV, "resourcetype").expect("types");
        assert!(types.child(DAV, "collection").is_some() && types.child(CARDDAV, "addressbook").is_some());
        assert!(prop.child(AGAP, "folder").is_none());

        let tree = parse_tree(&sync_collection(Some("http://x/sync/1?a&b")).expect("body")).expect("well-formed");
        assert_eq!(tree.child(DAV, "sync-token").expect("token").text, "http://x/sync/1?a&b");
        assert_eq!(tree.child(DAV, "sync-level").expect("level").text, "1");
        let tree = parse_tree(&sync_collection(None).expect("body")).expect("well-formed");
        assert_eq!(tree.child(DAV, "sync-token").expect("token").text, "");
    }
}
