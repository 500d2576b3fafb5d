//! The FILT folder form of a filter (draft 2.11.6, 4.3.2): `<FILTER>` with an optional
//! `<ABOUT>`, `<FOLDERS>` of `<FOLDER>` paths and `<RULES>` (an AND group) of AND, OR, NOT, UID,
//! TAG, IS and REGEX elements, into the same tree as the command form.
//!
//! Element and attribute names are accepted in upper or lower case (docs/interpretations.md,
//! `FILT-KEYWORD-CASE`). At least one folder and one rule are required (`FILT-EMPTY-RULES`:
//! 511). Text is trimmed: the figures indent it (Fig 28).

use agap_adapter_api::tags::Tag;

use crate::error::{AgapError, AgapResult};
use crate::format::part::PartPath;
use crate::format::{Content, Element};
use crate::ids;

use super::parse::{MAX_RULES, RegexBudget, check_path};
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

/// What reading the rules of one definition has used of its bounds.
struct Reading<'a> {
    root: &'a str,
    rules: usize,
    budget: RegexBudget,
}

fn rule(element: &Element, reading: &mut Reading<'_>, depth: usize) -> AgapResult<Filter> {
    if depth > 64 {
        return Err(invalid("rules nested too deeply"));
    }
    let nested = |reading: &mut Reading<'_>| -> AgapResult<Vec<Filter>> {
        children(element).iter().map(|c| rule(c, reading, depth + 1)).collect()
    };
    let name = element.name.to_ascii_uppercase();
    if !matches!(name.as_str(), "AND" | "OR" | "NOT") {
        if reading.rules >= MAX_RULES {
            return Err(invalid(format!("more than {MAX_RULES} rules")));
        }
        reading.rules += 1;
    }
    let root = reading.root;
    match name.as_str() {
        "AND" | "OR" => {
            let rules = nested(reading)?;
            if rules.is_empty() {
                return Err(invalid(format!("<{}> without rules", element.name)));
            }
            Ok(Filter::combine(element.name.eq_ignore_ascii_case("AND"), rules))
        }
        "NOT" => match nested(reading)?.as_slice() {
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
            check_path(&path).map_err(invalid)?;
            let op = attribute(element, "OP")?;
            let value = text(element)?;
            if element.name.eq_ignore_ascii_case("REGEX") {
                let negated = match op {
                    "=" => false,
                    "!=" => true,
                    other => return Err(invalid(format!("REGEX takes = or !=, not {other:?}"))),
                };
                let pattern = reading.budget.compile(&value).map_err(invalid)?;
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
    let mut reading = Reading { root, rules: 0, budget: RegexBudget::default() };
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
                    children(child).iter().map(|c| rule(c, &mut reading, 0)).collect::<AgapResult<_>>()?;
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

/// Reads a definition from its XML (a STOR's content, or as stored upstream) on a thread for
/// blocking work: parsing the XML and compiling the regular expressions take CPU time that
/// must not hold up a runtime worker. `max_item_size` bounds the XML tree as for a STOR. The
/// XML comes back with the definition.
pub async fn read_definition(
    xml: String,
    root: &'static str,
    max_item_size: usize,
) -> AgapResult<(String, FilterDefinition)> {
    let (size, costly) = (xml.len(), crate::blocking::may_compile_regexes(&xml));
    crate::blocking::off_the_runtime_unless_small("reading a filter definition", size, costly, move || {
        let tree = crate::format::xml_reader::parse_xml_within(&xml, max_item_size)?;
        Ok((xml, parse_definition(&tree, root)?))
    })
    .await
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

    /// The injection of issue 12: `&#13;&#10;` in an attribute decodes to a real CR LF, and a
    /// header name with it reached an IMAP command line (Dovecot created `injected`). The
    /// decoded name is checked, and refused.
    #[test]
    fn a_header_name_with_a_line_break_is_refused() {
        let injection = "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES>\
             <REGEX PATH=\"/MESSAGE/HEADER/x&#13;&#10;z1 CREATE injected&#13;&#10;z2 NOOP (\" OP=\"=\">a</REGEX>\
             </RULES></FILTER>";
        let tree = parse_xml(injection).expect("well-formed XML");
        let reply = parse_definition(&tree, "MESSAGE").expect_err("no header name").to_reply();
        assert_eq!(reply.code.number(), 511);
        assert!(reply.text.contains("is no header field name"), "{}", reply.text);
        for path in ["/MESSAGE/HEADER/a:b", "header/x&#0;", "header/a b", "header/&#127;", "/MESSAGE/TEXT&#9;"] {
            let xml = format!(
                "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><IS PATH=\"{path}\" OP=\"=\">a</IS></RULES></FILTER>"
            );
            assert!(definition(&xml).is_err(), "{path}");
        }
        let fine = "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES>\
             <IS PATH=\"header/X-Spam-Flag\" OP=\"=\">YES</IS></RULES></FILTER>";
        assert!(definition(fine).is_ok());
    }

    #[test]
    fn a_definition_has_a_rule_count_and_a_regex_budget() {
        let with = |rules: String| {
            format!("<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES>{rules}</RULES></FILTER>")
        };
        assert!(definition(&with("<TAG>A</TAG>".repeat(MAX_RULES))).is_ok());
        let reply = definition(&with("<TAG>A</TAG>".repeat(MAX_RULES + 1))).expect_err("too many").to_reply();
        assert!(reply.text.contains("more than 1000 rules"), "{}", reply.text);
        let heavy = "<REGEX PATH=\"header/x\" OP=\"=\">(a{100}){60}</REGEX>".repeat(1000);
        let reply = definition(&with(heavy)).expect_err("over the budget").to_reply();
        assert_eq!(reply.code.number(), 511);
        assert!(reply.text.contains("regular expressions of this filter need more than"), "{}", reply.text);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn read_definition_gives_the_xml_back_and_bounds_the_tree() {
        let xml = "<FILTER><FOLDERS><FOLDER>/INBOX</FOLDER></FOLDERS><RULES><TAG>A</TAG></RULES></FILTER>";
        let (back, read) = read_definition(xml.into(), "MESSAGE", 1 << 20).await.expect("valid");
        assert_eq!((back.as_str(), read.folders.as_slice()), (xml, &["/INBOX".to_owned()][..]));
        let wide = format!("<FILTER><ABOUT>{}</ABOUT></FILTER>", "<a/>".repeat(10_000));
        let reply = read_definition(wide, "MESSAGE", 1 << 20).await.expect_err("too many elements").to_reply();
        assert!(reply.text.contains("elements and attributes"), "{}", reply.text);
    }
}
