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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropResponse {
    pub href: String,
    pub props: Vec<Node>,
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

/// Parses a multistatus body into its responses, keeping only properties with status 200.
pub fn parse_multistatus(xml: &str) -> Result<Vec<PropResponse>, String> {
    let root = parse_tree(xml)?;
    if !root.is(DAV, "multistatus") {
        return Err(format!("expected DAV:multistatus, found {}{}", root.namespace, root.name));
    }
    let mut responses = Vec::new();
    for response in root.children_named(DAV, "response") {
        let href = response.child(DAV, "href").map(|h| h.text.trim().to_owned()).ok_or("a response without href")?;
        let props = response
            .children_named(DAV, "propstat")
            .filter(|propstat| propstat.child(DAV, "status").is_some_and(|s| status_code(&s.text) == Some(200)))
            .filter_map(|propstat| propstat.child(DAV, "prop"))
            .flat_map(|prop| prop.children.iter().cloned())
            .collect();
        responses.push(PropResponse { href, props });
    }
    Ok(responses)
}

/// The code of an HTTP status line ("HTTP/1.1 200 OK").
fn status_code(line: &str) -> Option<u16> {
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
}
