//! The FILT folder form of a filter (draft 2.11.6, 4.3.2): `<FILTER>` with an optional
//! `<ABOUT>`, `<FOLDERS>` of `<FOLDER>` paths and `<RULES>` (an AND group) of AND, OR, NOT, UID,
//! TAG, IS and REGEX elements, into the same tree as the command form.
//!
//! Element and attribute names are accepted in upper or lower case (AMBIGUITIES
//! `FILT-KEYWORD-CASE`). At least one folder and one rule are required (`FILT-EMPTY-RULES`:
//! 511). Text is trimmed: the figures indent it (Fig 28).

use agap_adapter_api::tags::Tag;

use crate::error::{AgapError, AgapResult};
use crate::format::part::PartPath;
use crate::format::{Content, Element};
use crate::ids;

use super::parse::compile;
use super::tree::{Comparison, Filter};

/// A FILT folder's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterDefinition {
    /// The optional description.
    pub about: Option<String>,
    /// The folders searched, as written (absolute paths).
    pub folders: Vec<String>,
    /// The rules.
    pub rules: Filter,
}

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(format!("INVALID filter: {}", reason.into()))
}

fn children(element: &Element) -> &[Element] {
    match &element.content {
        Content::Children(children) => children,
        _ => &[],
    }
}

fn text(element: &Element) -> AgapResult<String> {
    match &element.content {
        Content::Text(text) => Ok(text.trim().to_owned()),
        Content::Binary(bytes) => {
            String::from_utf8(bytes.clone()).map(|t| t.trim().to_owned()).map_err(|_| invalid("text expected"))
        }
        Content::Children(_) => Err(invalid(format!("<{}> must hold text", element.name))),
    }
}

fn attribute<'a>(element: &'a Element, name: &str) -> AgapResult<&'a str> {
    element
        .attributes
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| invalid(format!("<{}> needs the attribute {name}", element.name)))
}

fn rule(element: &Element, root: &str, depth: usize) -> AgapResult<Filter> {
    if depth > 64 {
        return Err(invalid("rules nested too deeply"));
    }
    let nested = || -> AgapResult<Vec<Filter>> { children(element).iter().map(|c| rule(c, root, depth + 1)).collect() };
    match element.name.to_ascii_uppercase().as_str() {
        "AND" | "OR" => {
            let rules = nested()?;
            if rules.is_empty() {
                return Err(invalid(format!("<{}> without rules", element.name)));
            }
            Ok(Filter::combine(element.name.eq_ignore_ascii_case("AND"), rules))
        }
        "NOT" => match nested()?.as_slice() {
            [one] => Ok(Filter::Not(Box::new(one.clone()))),
            _ => Err(invalid("<NOT> holds exactly one rule")),
        },
        "UID" => {
            let value = text(element)?;
            let (from, to) = value.split_once(':').unwrap_or((&value, &value));
            if !ids::is_valid(from) || !ids::is_valid(to) {
                return Err(invalid(format!("invalid UID {value:?}")));
            }
            Ok(Filter::Uid { from: from.to_owned(), to: to.to_owned() })
        }
        "TAG" => {
            let value = text(element)?;
            let tag = Tag::parse(&value).map_err(|_| invalid(format!("invalid tag {value:?}")))?;
            Ok(Filter::Tag { name: tag.name().to_owned(), value: tag.value().map(str::to_owned) })
        }
        "IS" | "REGEX" => {
            let path = attribute(element, "PATH")?;
            let path = PartPath::parse(path, root).map_err(|_| invalid(format!("invalid path {path:?}")))?;
            let op = attribute(element, "OP")?;
            let value = text(element)?;
            if element.name.eq_ignore_ascii_case("REGEX") {
                let negated = match op {
                    "=" => false,
                    "!=" => true,
                    other => return Err(invalid(format!("REGEX takes = or !=, not {other:?}"))),
                };
                let pattern = compile(&value).map_err(invalid)?;
                return Ok(Filter::Regex { path, negated, pattern });
            }
            let op = match op {
                "<" => Comparison::Less,
                "<=" => Comparison::LessOrEqual,
                "=" => Comparison::Equal,
                "!=" => Comparison::NotEqual,
                ">=" => Comparison::GreaterOrEqual,
                ">" => Comparison::Greater,
                other => return Err(invalid(format!("unknown operator {other:?}"))),
            };
            Ok(Filter::Is { path, op, value })
        }
        other => Err(invalid(format!("unknown rule <{other}>"))),
    }
}

/// Reads a `<FILTER>` for items whose rendering's root is `root`.
pub fn parse_definition(tree: &Element, root: &str) -> AgapResult<FilterDefinition> {
    if !tree.name.eq_ignore_ascii_case("FILTER") {
        return Err(invalid(format!("<{}> is not a filter", tree.name)));
    }
    let mut about = None;
    let mut folders = Vec::new();
    let mut rules = None;
    for child in children(tree) {
        match child.name.to_ascii_uppercase().as_str() {
            "ABOUT" => about = Some(text(child)?),
            "FOLDERS" => {
                for folder in children(child) {
                    if !folder.name.eq_ignore_ascii_case("FOLDER") {
                        return Err(invalid(format!("<{}> in <FOLDERS>", folder.name)));
                    }
                    folders.push(text(folder)?);
                }
            }
            "RULES" => {
                let parsed: Vec<Filter> =
                    children(child).iter().map(|c| rule(c, root, 0)).collect::<AgapResult<_>>()?;
                rules = Some(Filter::combine(true, parsed));
            }
            other => return Err(invalid(format!("unexpected <{other}>"))),
        }
    }
    if folders.is_empty() {
        return Err(invalid("at least one <FOLDER> is needed"));
    }
    let rules = rules.filter(|rules| *rules != Filter::All).ok_or_else(|| invalid("at least one rule is needed"))?;
    Ok(FilterDefinition { about, folders, rules })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::xml_reader::parse_xml;

    fn definition(xml: &str) -> AgapResult<FilterDefinition> {
        parse_definition(&parse_xml(xml)?, "MESSAGE")
    }

    #[test]
    fn figures_27_and_13_read_as_the_command_form_does() {
        let fig27 = definition(
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><AND><UID>UIDx0001:UIDx0010</UID>\
             <OR><TAG>SPAM</TAG><TAG>HAS=VIRUS</TAG></OR><TAG>SEEN</TAG></AND></RULES></FILTER>",
        )
        .expect("Fig 27");
        let command = crate::filter::parse_filter(
            &["UID UIDx0001:UIDx0010 AND ( OR TAG SPAM TAG HAS=VIRUS ) TAG SEEN".to_owned()],
            "MESSAGE",
        )
        .expect("command form");
        assert_eq!(fig27.rules, command);
        assert_eq!(fig27.folders, ["/INBOX"]);
        let fig13 = definition(
            "<FILTER>\n  <ABOUT>A sample FILT filter.</ABOUT>\n  <FOLDERS>\n    <FOLDER>/INBOX</FOLDER>\n    <FOLDER>/Spam</FOLDER>\n  </FOLDERS>\n  <RULES>\n    <OR>\n      <IS PATH=\"header/subject\" OP=\"=\">Viagra</IS>\n      <AND>\n        <UID>UIDx1234:UIDx4321</UID>\n        <TAG>SPAM</TAG>\n      </AND>\n    </OR>\n  </RULES>\n</FILTER>",
        )
        .expect("Fig 13");
        assert_eq!(fig13.about.as_deref(), Some("A sample FILT filter."));
        assert!(matches!(fig13.rules, Filter::Or(ref rules) if rules.len() == 2));
    }

    #[test]
    fn lower_case_rules_and_an_indented_regex_are_accepted() {
        let parsed = definition(
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><or><regex path=\"/MESSAGE/HEADER/FROM\" op=\"!=\">\n        [^0-9]+@example\\.com$</regex><not><tag>seen</tag></not></or></RULES></FILTER>",
        )
        .expect("lower case");
        let Filter::Or(rules) = parsed.rules else { panic!("or") };
        assert!(
            matches!(&rules[0], Filter::Regex { pattern, negated: true, .. } if pattern.source == "[^0-9]+@example\\.com$")
        );
    }

    #[test]
    fn incomplete_or_wrong_definitions_are_511() {
        for xml in [
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES></RULES></FILTER>",
            "<FILTER><RULES><TAG>SEEN</TAG></RULES></FILTER>",
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><NOT><TAG>A</TAG><TAG>B</TAG></NOT></RULES></FILTER>",
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><IS PATH=\"header/subject\">x</IS></RULES></FILTER>",
            "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><LATER/></RULES></FILTER>",
            "<MESSAGE/>",
        ] {
            assert_eq!(definition(xml).expect_err(xml).to_reply().code.number(), 511, "{xml}");
        }
    }
}
