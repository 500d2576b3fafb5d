//! DAV:multistatus bodies (RFC 4918 13): a namespace-aware element tree, and per response its
//! href with the properties the server found (propstat 200). No DTDs, bounded depth.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
/// The namespace of the gateway's own dead properties.
pub const AGAP: &str = "http://agap-gateway.invalid/ns/";

/// The deepest nesting accepted: a multistatus needs about eight levels (multistatus, response,
/// propstat, prop, a property and what it holds); a server sending more means harm, and the tree
/// (and whatever walks it) stays shallow.
const MAX_DEPTH: usize = 64;

/// One element: its namespace, local name, attributes (local names), text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    pub namespace: String,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    /// The first child named `namespace` `name`.
    pub fn child(&self, namespace: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.is(namespace, name))
    }

    /// The value of the attribute with local name `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every child named `namespace` `name`.
    pub fn children_named<'a>(&'a self, namespace: &'a str, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |child| child.is(namespace, name))
    }
}

/// One DAV:response: the href as the server wrote it and the properties it found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropResponse {
    pub href: String,
    /// The status of the response as a whole (a DAV:status outside any propstat), e.g. 404 for a
    /// removed member in sync-collection or a missing href in a multiget.
    pub status: Option<u16>,
    /// Properties with status 200.
    pub props: Vec<Node>,
    /// Properties with any other status, with that status (403, 404, 409, 424, ...).
    pub failed: Vec<(u16, Node)>,
}

impl PropResponse {
    pub fn prop(&self, namespace: &str, name: &str) -> Option<&Node> {
        self.props.iter().find(|prop| prop.is(namespace, name))
    }

    /// The text of a property, trimmed; None when absent or empty.
    pub fn text(&self, namespace: &str, name: &str) -> Option<String> {
        self.prop(namespace, name).map(|p| p.text.trim().to_owned()).filter(|t| !t.is_empty())
    }

    /// The DAV:href inside a property (current-user-principal, *-home-set).
    pub fn href_in(&self, namespace: &str, name: &str) -> Option<String> {
        let prop = self.prop(namespace, name)?;
        prop.child(DAV, "href").map(|h| h.text.trim().to_owned()).filter(|h| !h.is_empty())
    }
}

/// A whole DAV:multistatus: its responses and, for sync-collection (RFC 6578 6.4), the new token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Multistatus {
    pub responses: Vec<PropResponse>,
    pub sync_token: Option<String>,
}

/// Parses a multistatus body into its responses (properties split by propstat status).
pub fn parse_multistatus(xml: &str) -> Result<Vec<PropResponse>, String> {
    Ok(parse_multistatus_document(xml)?.responses)
}

/// Parses a multistatus body with its top-level sync-token.
pub fn parse_multistatus_document(xml: &str) -> Result<Multistatus, String> {
    let root = parse_tree(xml)?;
    if !root.is(DAV, "multistatus") {
        return Err(format!("expected DAV:multistatus, found {}{}", root.namespace, root.name));
    }
    let mut responses = Vec::new();
    for response in root.children_named(DAV, "response") {
        let mut hrefs = response.children_named(DAV, "href").map(|h| h.text.trim().to_owned());
        let href = hrefs.next().ok_or("a response without href")?;
        let status = match response.child(DAV, "status") {
            Some(status) => Some(status_code(&status.text).ok_or("a response with a malformed status")?),
            None => None,
        };
        let mut props = Vec::new();
        let mut failed = Vec::new();
        for propstat in response.children_named(DAV, "propstat") {
            let code = propstat
                .child(DAV, "status")
                .and_then(|s| status_code(&s.text))
                .ok_or("a propstat without a valid status")?;
            let Some(prop) = propstat.child(DAV, "prop") else { continue };
            if code == 200 {
                props.extend(prop.children.iter().cloned());
            } else {
                failed.extend(prop.children.iter().map(|p| (code, p.clone())));
            }
        }
        // RFC 4918 14.24: a status response may name several hrefs.
        for other in hrefs {
            responses.push(PropResponse { href: other, status, ..PropResponse::default() });
        }
        responses.push(PropResponse { href, status, props, failed });
    }
    let sync_token = root.child(DAV, "sync-token").map(|t| t.text.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(Multistatus { responses, sync_token })
}

/// What a DAV:error body (RFC 4918 16) says: the precondition or postcondition it names, the
/// href that element holds (RFC 4791 `no-uid-conflict` and RFC 6638
/// `unique-scheduling-object-resource` name the resource already using the UID) and the
/// server's explanation, a DAV:responsedescription beside it (Cyrus: "DTEND must occur after
/// DTSTART"). Texts are as the server sent them: whoever shows them must make them safe
/// ([`crate::client::shown_text`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DavError {
    pub condition: Option<String>,
    pub href: Option<String>,
    pub description: Option<String>,
}

/// The DAV:error of an error body; `None` when the body is no DAV:error.
pub fn dav_error(xml: &str) -> Option<DavError> {
    let root = parse_tree(xml).ok()?;
    if !root.is(DAV, "error") {
        return None;
    }
    let element = root.children.iter().find(|child| !child.is(DAV, "responsedescription"));
    let text = |node: &Node| Some(node.text.trim().to_owned()).filter(|text| !text.is_empty());
    Some(DavError {
        condition: element.map(|element| element.name.clone()),
        href: element.and_then(|element| element.child(DAV, "href")).and_then(text),
        description: root.child(DAV, "responsedescription").and_then(text),
    })
}

/// The precondition or postcondition a DAV:error body names (RFC 4918 16), e.g.
/// `no-uid-conflict`; `None` when the body is no DAV:error or names none.
pub fn error_condition(xml: &str) -> Option<String> {
    dav_error(xml)?.condition
}

/// The code of an HTTP status line ("HTTP/1.1 200 OK").
pub fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Parses a whole document into its root element.
pub fn parse_tree(xml: &str) -> Result<Node, String> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = reader.read_resolved_event().map_err(|e| format!("after byte {position}: {e}"))?;
        let namespace = match resolved {
            ResolveResult::Bound(namespace) => namespace.as_ref().to_owned(),
            ResolveResult::Unbound | ResolveResult::Unknown(_) => String::new(),
        };
        let element = |start: &BytesStart<'_>| -> Result<Node, String> {
            let mut attributes = Vec::new();
            for attribute in start.attributes() {
                let attribute = attribute.map_err(|e| e.to_string())?;
                let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
                attributes.push((attribute.key.local_name().as_ref().to_owned(), value.into_owned()));
            }
            Ok(Node {
                namespace: namespace.clone(),
                name: start.local_name().as_ref().to_owned(),
                attributes,
                ..Node::default()
            })
        };
        match event {
            Event::Eof => break,
            Event::DocType(_) => return Err("DTDs are not accepted".into()),
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("elements nested too deeply".into());
                }
                stack.push(element(&start)?);
            }
            Event::Empty(start) => attach(&mut stack, &mut root, element(&start)?)?,
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                attach(&mut stack, &mut root, node)?;
            }
            Event::Text(text) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(data.as_ref());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => reference.resolve_char_ref().map_err(|e| e.to_string())?,
                };
                let resolved = resolved.ok_or("unknown entity")?;
                if let Some(node) = stack.last_mut() {
                    node.text.push(resolved);
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn attach(stack: &mut [Node], root: &mut Option<Node>, node: Node) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_none() => *root = Some(node),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC4918_EXAMPLE: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<D:multistatus xmlns:D="DAV:">
  <D:response xmlns:R="http://ns.example.com/boxschema/">
    <D:href>http://www.example.com/file</D:href>
    <D:propstat>
      <D:prop><R:bigbox><R:BoxType>Box type A</R:BoxType></R:bigbox><D:displayname>A &amp; B</D:displayname></D:prop>
      <D:status>HTTP/1.1 200 OK</D:status>
    </D:propstat>
    <D:propstat>
      <D:prop><R:DingALing/><R:Random/></D:prop>
      <D:status>HTTP/1.1 403 Forbidden</D:status>
    </D:propstat>
  </D:response>
</D:multistatus>"#;

    #[test]
    fn keeps_found_properties_with_their_namespaces() {
        let responses = parse_multistatus(RFC4918_EXAMPLE).expect("parse");
        assert_eq!(responses.len(), 1);
        let response = &responses[0];
        assert_eq!(response.href, "http://www.example.com/file");
        assert_eq!(response.text(DAV, "displayname").as_deref(), Some("A & B"));
        let bigbox = response.prop("http://ns.example.com/boxschema/", "bigbox").expect("bigbox");
        assert_eq!(bigbox.child("http://ns.example.com/boxschema/", "BoxType").expect("type").text, "Box type A");
        assert!(response.prop("http://ns.example.com/boxschema/", "DingALing").is_none(), "403 is not found");
    }

    #[test]
    fn default_namespace_and_hrefs_in_properties() {
        let xml = r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response>
            <href>/dav/</href><propstat><prop><current-user-principal><href>/dav/alice/</href></current-user-principal>
            <C:calendar-home-set><href>/dav/alice/cal/</href></C:calendar-home-set></prop>
            <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let responses = parse_multistatus(xml).expect("parse");
        assert_eq!(responses[0].href_in(DAV, "current-user-principal").as_deref(), Some("/dav/alice/"));
        assert_eq!(responses[0].href_in(CALDAV, "calendar-home-set").as_deref(), Some("/dav/alice/cal/"));
    }

    #[test]
    fn refuses_what_is_not_a_multistatus() {
        assert!(parse_multistatus("<html/>").is_err());
        assert!(parse_multistatus(r#"<!DOCTYPE x [<!ENTITY a "b">]><D:multistatus xmlns:D="DAV:"/>"#).is_err());
        assert!(parse_multistatus(r#"<D:multistatus xmlns:D="DAV:"><D:response>"#).is_err());
        assert!(parse_multistatus(&"<a>".repeat(100)).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(parse_tree(&nested(MAX_DEPTH)).is_ok());
        let error = parse_tree(&nested(MAX_DEPTH + 1)).expect_err("too deep");
        assert!(error.contains("nested too deeply"), "{error}");
        // A deep multistatus from a hostile server: refused, not recursed into.
        let deep = format!(
            r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href>{}{}</D:response></D:multistatus>"#,
            "<D:x>".repeat(100_000),
            "</D:x>".repeat(100_000)
        );
        assert!(parse_multistatus(&deep).expect_err("too deep").contains("nested too deeply"));
    }

    #[test]
    fn multiget_with_a_missing_item() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:response><D:href>/cal/a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag>
    <C:calendar-data>BEGIN:VCALENDAR&#13;
SUMMARY:a &amp; b&#13;
END:VCALENDAR&#13;
</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/cal/gone.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>
</D:multistatus>"#;
        let responses = parse_multistatus(xml).expect("parse");
        assert_eq!(responses.len(), 2);
        assert_eq!(responses[0].status, None);
        assert_eq!(responses[0].text(DAV, "getetag").as_deref(), Some("\"1\""));
        let data = &responses[0].prop(CALDAV, "calendar-data").expect("data").text;
        assert!(data.starts_with("BEGIN:VCALENDAR\r\nSUMMARY:a & b\r\n"), "{data:?}");
        assert_eq!(responses[1].href, "/cal/gone.ics");
        assert_eq!(responses[1].status, Some(404));
        assert!(responses[1].props.is_empty());
    }

    #[test]
    fn sync_collection_with_removed_items_and_token() {
        let xml = r#"<multistatus xmlns="DAV:">
  <response><href>/book/new.vcf</href><propstat><prop><getetag>"n"</getetag></prop>
    <status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/book/old.vcf</href><status>HTTP/1.1 404 Not Found</status></response>
  <sync-token>http://example.com/ns/sync/1234</sync-token>
</multistatus>"#;
        let document = parse_multistatus_document(xml).expect("parse");
        assert_eq!(document.sync_token.as_deref(), Some("http://example.com/ns/sync/1234"));
        let removed: Vec<_> = document.responses.iter().filter(|r| r.status == Some(404)).map(|r| &r.href).collect();
        assert_eq!(removed, ["/book/old.vcf"]);
        assert_eq!(document.responses[0].text(DAV, "getetag").as_deref(), Some("\"n\""));
    }

    #[test]
    fn proppatch_with_a_refused_property() {
        let xml = r#"<D:multistatus xmlns:D="DAV:" xmlns:A="http://agap-gateway.invalid/ns/"><D:response>
  <D:href>/cal/x/</D:href>
  <D:propstat><D:prop><A:folder/></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status></D:propstat>
  <D:propstat><D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 424 Failed Dependency</D:status></D:propstat>
</D:response></D:multistatus>"#;
        let responses = parse_multistatus(xml).expect("parse");
        let failed: Vec<_> = responses[0].failed.iter().map(|(status, prop)| (*status, prop.name.as_str())).collect();
        assert_eq!(failed, [(403, "folder"), (424, "displayname")]);
        assert!(responses[0].props.is_empty());
    }

    #[test]
    fn error_bodies_name_their_condition() {
        let xml = r#"<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:no-uid-conflict><D:href>/c/a.ics</D:href></C:no-uid-conflict></D:error>"#;
        assert_eq!(error_condition(xml).as_deref(), Some("no-uid-conflict"));
        assert_eq!(dav_error(xml).and_then(|error| error.href).as_deref(), Some("/c/a.ics"));
        assert_eq!(error_condition("<html>oops</html>"), None);
        assert_eq!(error_condition("not xml at all <"), None);
    }

    #[test]
    fn error_bodies_keep_the_servers_explanation() {
        // Cyrus 3.6, refusing an event it misreads: the description follows the precondition.
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:valid-calendar-data/><D:responsedescription>DTEND must occur after DTSTART</D:responsedescription></D:error>"#;
        let error = dav_error(xml).expect("a DAV:error");
        assert_eq!(error.condition.as_deref(), Some("valid-calendar-data"));
        assert_eq!(error.description.as_deref(), Some("DTEND must occur after DTSTART"));
        assert_eq!(error.href, None);
        // Before the precondition, or alone.
        let first = r#"<D:error xmlns:D="DAV:"><D:responsedescription> why </D:responsedescription><D:valid-sync-token/></D:error>"#;
        assert_eq!(error_condition(first).as_deref(), Some("valid-sync-token"));
        let alone = r#"<D:error xmlns:D="DAV:"><D:responsedescription>just this</D:responsedescription></D:error>"#;
        assert_eq!(dav_error(alone), Some(DavError { description: Some("just this".into()), ..DavError::default() }));
    }
}
