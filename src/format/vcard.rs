//! Contact resources (vCard) as `<VCARD>` items (draft 2.11.4), both ways. calcard parses and
//! writes the vCard text (unfolding, folding, quoted-printable, base64); what the renderings
//! share with iCalendar is in `content_line`. Every reading is also listed in docs/calendars.md,
//! section "Renderings".
//!
//! - One element per property in order, named as the property with its group
//!   (`item1.EMAIL` -> `<ITEM1.EMAIL>`), upper case. VERSION is shown (Fig 9).
//! - All TYPE values of a property (several TYPE parameters, comma lists) in one `TYPE`
//!   attribute, lower case. LANGUAGE, VALUE, CONTEXT, CHARSET and ENCODING are not shown.
//! - Binary values (ENCODING=b, vCard 4 `data:` URIs) are binary content; their media type is
//!   the TYPE attribute as a full media type: `LOGO;TYPE=JPEG` -> `TYPE="image/jpeg"` (of the two
//!   readings the draft allows, the one that needs no table to go back).
//! - Values: the raw value with `\n` as a line feed, `\,` `\;` kept; quoted-printable (vCard
//!   2.1) is decoded. Dates `YYYY-MM-DD`, timestamps UTC `yyyy-mm-ddThh:mm:ssZ`, UTC offsets
//!   `+01:00`; reduced dates (`--0412`, `1963-09`) as vCard 4 writes them, in every version.
//! - The AGAP tags live in an `X-AGAP-TAGS` property, never shown.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use calcard::common::{IanaString, PartialDateTime};
use calcard::vcard::{
    VCard, VCardEntry, VCardParameterName, VCardParameterValue, VCardProperty, VCardValue, VCardVersion,
};

use crate::error::{AgapError, AgapResult};

use super::content_line::{
    LogicalLine, Stamp, TAGS_PROPERTY, attribute_value, element_text, format_date, format_utc, fresh_uid,
    is_attribute_name, is_xml_name, logical_lines, looks_like_uri, parse_stamp, push_parameter, raw_to_xml, read_tags,
    refuse_cid, replace_tags, written_value, xml_to_raw,
};
use super::tree::{Content, Element};

/// The AGAP view of one vCard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// Its UID property, if any.
    pub uid: Option<String>,
    /// `<VCARD>`.
    pub item: Element,
    /// AGAP tags kept in the resource, in stored order.
    pub tags: Vec<String>,
}

/// Parameters never shown (draft 2.11.4), ENCODING becoming binary content.
const DROPPED_PARAMETERS: [&str; 5] = ["LANGUAGE", "VALUE", "CONTEXT", "CHARSET", "ENCODING"];

/// Properties with date or timestamp values.
const DATE_PROPERTIES: [&str; 4] = ["BDAY", "ANNIVERSARY", "REV", "DEATHDATE"];

/// Properties that take binary values in vCard 3 (RFC 2426), where a URI needs VALUE=uri.
const BINARY_PROPERTIES: [&str; 4] = ["PHOTO", "LOGO", "SOUND", "KEY"];

/// Text properties whose values never get VALUE=uri.
const TEXT_PROPERTIES: [&str; 19] = [
    "N",
    "FN",
    "ADR",
    "ORG",
    "NOTE",
    "TITLE",
    "ROLE",
    "NICKNAME",
    "CATEGORIES",
    "LABEL",
    "UID",
    "PRODID",
    "SORT-STRING",
    "CLASS",
    "MAILER",
    "EMAIL",
    "TZ",
    "KIND",
    "GENDER",
];

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

fn parse(vcf: &str) -> AgapResult<VCard> {
    VCard::parse(version_first(vcf).as_ref()).map_err(|other| invalid(format!("not vCard data: {other:?}")))
}

/// `vcf` with the VERSION line of its first VCARD moved right after BEGIN, where RFC 6350 6.7.9
/// wants it: calcard reads the values before VERSION as vCard 4, so a vCard 3 `BDAY:1963-09-21`
/// written before its VERSION (seen in the wild, and kept so by servers) would be read as the
/// vCard 4 reduced date `1963-09`. Unchanged when VERSION is there already or missing.
fn version_first(vcf: &str) -> std::borrow::Cow<'_, str> {
    let lines = logical_lines(vcf);
    let Some(begin) =
        lines.iter().position(|line| line.boundary().is_some_and(|(begin, name)| begin && name == "VCARD"))
    else {
        return vcf.into();
    };
    let mut depth = 0usize;
    let mut version = None;
    for (index, line) in lines.iter().enumerate().skip(begin + 1) {
        match line.boundary() {
            Some((true, _)) => depth += 1,
            Some((false, _)) if depth == 0 => break,
            Some((false, _)) => depth -= 1,
            None if depth == 0 && line.name() == "VERSION" => {
                version = Some(index);
                break;
            }
            None => {}
        }
    }
    match version {
        Some(index) if index > begin + 1 && vcf[..lines[index].end].ends_with('\n') => {
            let (after_begin, version) = (lines[begin].end, &lines[index]);
            let mut out = String::with_capacity(vcf.len());
            out.push_str(&vcf[..after_begin]);
            out.push_str(&vcf[version.start..version.end]);
            out.push_str(&vcf[after_begin..version.start]);
            out.push_str(&vcf[version.end..]);
            out.into()
        }
        _ => vcf.into(),
    }
}

fn version_of(card: &VCard) -> VCardVersion {
    let text =
        card.entries.iter().find(|entry| entry.name == VCardProperty::Version).map(|entry| value_raw(entry, true));
    version_from(text.as_deref().unwrap_or("3.0"))
}

fn version_from(text: &str) -> VCardVersion {
    match text.trim() {
        "4.0" => VCardVersion::V4_0,
        "2.1" => VCardVersion::V2_1,
        "2.0" => VCardVersion::V2_0,
        _ => VCardVersion::V3_0,
    }
}

fn parameter_text(value: &VCardParameterValue) -> Option<String> {
    Some(match value {
        VCardParameterValue::Text(text) => text.clone(),
        VCardParameterValue::Integer(number) => number.to_string(),
        VCardParameterValue::Timestamp(at) => {
            format_utc(chrono::DateTime::from_timestamp(*at, 0).map(|at| at.naive_utc()).unwrap_or_default())
        }
        VCardParameterValue::Bool(flag) => if *flag { "TRUE" } else { "FALSE" }.into(),
        VCardParameterValue::ValueType(v) => v.as_str().into(),
        VCardParameterValue::Type(v) => v.as_str().into(),
        VCardParameterValue::Calscale(v) => v.as_str().into(),
        VCardParameterValue::Level(v) => v.as_str().into(),
        VCardParameterValue::Phonetic(v) => v.as_str().into(),
        // JSCOMPS (RFC 9554) is calcard's own bookkeeping for JSContact; not shown.
        VCardParameterValue::Jscomps(_) => return None,
        VCardParameterValue::Null => String::new(),
    })
}

/// The raw value calcard's writer gives an entry (see `content_line::written_value`).
fn value_raw(entry: &VCardEntry, v4: bool) -> String {
    let bare = VCardEntry {
        group: None,
        name: entry.name.clone(),
        params: entry.params.iter().filter(|p| p.name == VCardParameterName::Value).cloned().collect(),
        values: entry.values.clone(),
    };
    let mut line = String::new();
    // Writing to a String cannot fail.
    let _ = bare.write_to(&mut line, v4);
    written_value(&line)
}

/// A date without year, month or day (RFC 6350 4.3.1: `--0203`, `---03`, `--02`, `1963-09`,
/// `1963`), written as vCard 4 writes it whatever the card's version: calcard writes `--02-03`
/// in a vCard 3, which its own parser (and others) then read as the month alone. `None` for a
/// complete date and for anything with a time or zone.
fn reduced_date(value: &PartialDateTime) -> Option<String> {
    if value.hour.is_some() || value.minute.is_some() || value.second.is_some() || value.tz_hour.is_some() {
        return None;
    }
    Some(match (value.year, value.month, value.day) {
        (None, Some(month), Some(day)) => format!("--{month:02}{day:02}"),
        (None, None, Some(day)) => format!("---{day:02}"),
        (None, Some(month), None) => format!("--{month:02}"),
        (Some(year), Some(month), None) => format!("{year:04}-{month:02}"),
        (Some(year), None, None) => format!("{year:04}"),
        _ => return None,
    })
}

fn format_partial(value: &PartialDateTime) -> Option<String> {
    if let Some(reduced) = reduced_date(value) {
        return Some(reduced);
    }
    if value.year.is_none() && value.month.is_none() && value.day.is_none() && value.hour.is_none() {
        // A UTC offset (TZ).
        let hour = value.tz_hour?;
        let sign = if value.tz_minus { '-' } else { '+' };
        return Some(format!("{sign}{hour:02}:{:02}", value.tz_minute.unwrap_or(0)));
    }
    let result = value.to_date_time()?;
    if value.hour.is_none() {
        return Some(format_date(result.date_time.date()));
    }
    // Without a zone the time is read as UTC (the draft has only UTC times).
    let utc = match result.offset {
        Some(offset) => result.date_time - chrono::TimeDelta::seconds(offset.local_minus_utc().into()),
        None => result.date_time,
    };
    Some(format_utc(utc))
}

fn is_tags(entry: &VCardEntry) -> bool {
    entry.name.as_str().eq_ignore_ascii_case(TAGS_PROPERTY)
}

fn property_element(entry: &VCardEntry, v4: bool) -> Element {
    let property = entry.name.as_str().to_ascii_uppercase();
    let name = match &entry.group {
        Some(group) => format!("{}.{property}", group.to_ascii_uppercase()),
        None => property,
    };
    let binary = entry.values.iter().find_map(|value| match value {
        VCardValue::Binary(data) => Some(data),
        _ => None,
    });
    let mut types: Vec<String> = Vec::new();
    let mut attributes: Vec<(String, String)> = Vec::new();
    for parameter in &entry.params {
        let Some(text) = parameter_text(&parameter.value) else { continue };
        if parameter.name == VCardParameterName::Type {
            for item in text.split(',').map(|item| item.trim().to_ascii_lowercase()) {
                if !item.is_empty() && !types.contains(&item) {
                    types.push(item);
                }
            }
            continue;
        }
        let upper = parameter.name.as_str().to_ascii_uppercase();
        if DROPPED_PARAMETERS.contains(&upper.as_str()) || !is_attribute_name(&upper) {
            continue;
        }
        let value = attribute_value(&upper, &text);
        match attributes.iter_mut().find(|(known, _)| *known == upper) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => attributes.push((upper, value)),
        }
    }
    let content = match binary {
        Some(data) => {
            if let Some(media) = &data.content_type {
                // vCard 3 TYPE values of a binary value are its media type (RFC 2426 3.1.4):
                // replaced by the full media type; vCard 4 TYPE values are something else.
                if !v4 {
                    types.clear();
                }
                let media = media.to_ascii_lowercase();
                if !types.contains(&media) {
                    types.push(media);
                }
            }
            Content::Binary(data.data.clone())
        }
        None => {
            let dates = entry.values.iter().all(|value| matches!(value, VCardValue::PartialDateTime(_)));
            let formatted: Option<Vec<String>> = if dates && !entry.values.is_empty() {
                entry
                    .values
                    .iter()
                    .map(|value| match value {
                        VCardValue::PartialDateTime(at) => format_partial(at),
                        _ => None,
                    })
                    .collect()
            } else {
                None
            };
            Content::Text(match formatted {
                Some(parts) => parts.join(","),
                None => raw_to_xml(&value_raw(entry, v4)),
            })
        }
    };
    if !types.is_empty() {
        attributes.insert(0, ("TYPE".into(), types.join(",")));
    }
    Element { name, attributes, content }
}

/// The AGAP view of the first VCARD of `vcf`; 511 if it does not parse.
pub fn render_vcard(vcf: &str) -> AgapResult<ContactView> {
    let card = parse(vcf)?;
    let v4 = version_of(&card) == VCardVersion::V4_0;
    let children = card
        .entries
        .iter()
        .filter(|entry| !is_tags(entry) && !matches!(entry.name, VCardProperty::Begin | VCardProperty::End))
        .filter(|entry| is_xml_name(entry.name.as_str()) && entry.group.as_deref().is_none_or(is_xml_name))
        .map(|entry| property_element(entry, v4))
        .collect();
    let uid = card
        .entries
        .iter()
        .find(|entry| entry.name == VCardProperty::Uid)
        .map(|entry| raw_to_xml(&value_raw(entry, v4)));
    let (lines, first, last) = card_range(vcf)?;
    let tags = read_tags(&lines, first, last);
    Ok(ContactView { uid, item: Element::parent("VCARD", children), tags })
}

/// The content line of one element of STORed XML; `None` for elements that are no property.
fn content_line(element: &Element, version: VCardVersion) -> AgapResult<Option<String>> {
    let name = element.name.to_ascii_uppercase();
    let (group, property) = match name.rsplit_once('.') {
        Some((group, property)) => (Some(group), property),
        None => (None, name.as_str()),
    };
    let valid = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid(property) || !group.is_none_or(valid) {
        return Err(invalid(format!("<{}> is not a vCard property", element.name)));
    }
    if property == "SOURCE" {
        // Draft 2.11.4: the content of the vCard must be inside the XML.
        return Err(invalid("a SOURCE property is not accepted"));
    }
    if property == TAGS_PROPERTY || property == "VERSION" || matches!(element.content, Content::Children(_)) {
        return Ok(None);
    }
    let v4 = version == VCardVersion::V4_0;
    let binary = match &element.content {
        Content::Binary(bytes) if BINARY_PROPERTIES.contains(&property) || std::str::from_utf8(bytes).is_err() => {
            Some(bytes.clone())
        }
        _ => None,
    };
    let mut line = name.clone();
    let mut media = None;
    let bare_if_empty = version == VCardVersion::V2_1;
    for (attribute, value) in &element.attributes {
        let upper = attribute.to_ascii_uppercase();
        if ["VALUE", "ENCODING", "CHARSET", "ENCODED"].contains(&upper.as_str()) {
            continue;
        }
        if upper == "TYPE" && binary.is_some() {
            let (media_types, others): (Vec<&str>, Vec<&str>) =
                value.split(',').map(str::trim).filter(|item| !item.is_empty()).partition(|item| item.contains('/'));
            media = media_types.first().map(|media| media.to_ascii_lowercase());
            // vCard 4 TYPE values of a binary value are not its media type: kept. In vCard 3
            // the media type is written as TYPE below; values that are none (the rendering
            // shows them when calcard found no media type in them, e.g. `TYPE=BASE64`) are
            // kept when there is no media type, so the value renders as it did.
            if !others.is_empty() && (v4 || media.is_none()) {
                push_parameter(&mut line, "TYPE", &others.join(","), bare_if_empty);
            }
            continue;
        }
        push_parameter(&mut line, &upper, value, bare_if_empty);
    }
    if let Some(bytes) = binary {
        if v4 {
            line.push_str(&format!(":data:{};base64,{}", media.unwrap_or_default(), STANDARD.encode(bytes)));
        } else {
            if let Some(subtype) = media.as_deref().and_then(|media| media.split_once('/')).map(|(_, subtype)| subtype)
            {
                push_parameter(&mut line, "TYPE", subtype, bare_if_empty);
            }
            line.push_str(";ENCODING=b:");
            line.push_str(&STANDARD.encode(bytes));
        }
        return Ok(Some(line));
    }
    let text = element_text(element)?;
    refuse_cid(element, &text)?;
    let trimmed = text.trim();
    let value = match parse_stamp(trimmed) {
        Some(stamp) if DATE_PROPERTIES.contains(&property) => match (stamp, v4) {
            (Stamp::Date(date), false) => format_date(date),
            (Stamp::DateTime(at), false) => format_utc(at),
            (stamp, true) => stamp.basic(),
        },
        _ => {
            // A URI value gets VALUE=uri (draft 2.11.4: the type is detected from the value):
            // needed where URI is not the default (vCard 3 PHOTO, vCard 4 TEL, X- properties),
            // harmless where it is; never for text properties, whose values may look like one.
            if looks_like_uri(trimmed) && !trimmed.contains('\\') && !TEXT_PROPERTIES.contains(&property) {
                line.push_str(";VALUE=uri");
            }
            if property == "UID" { xml_to_raw(trimmed) } else { xml_to_raw(&text) }
        }
    };
    line.push(':');
    line.push_str(&value);
    Ok(Some(line))
}

/// The vCard text for a STORed `<VCARD>` (511 for another root). Keeps the tags of `previous`;
/// adds a UID when the XML has none (RFC 6352 5.1 requires one); returns text and UID.
pub fn vcard_from_xml(root: &Element, previous: Option<&str>) -> AgapResult<(String, String)> {
    if !root.name.eq_ignore_ascii_case("VCARD") {
        return Err(invalid(format!("<{}> cannot be stored in a contact folder", root.name)));
    }
    let children: &[Element] = match &root.content {
        Content::Children(children) => children,
        _ => &[],
    };
    // No VERSION: 3.0, the vCard of the draft (RFC 2426).
    let version = match root.child("VERSION") {
        Some(element) => version_from(&element_text(element)?),
        None => VCardVersion::V3_0,
    };
    let mut text = format!("BEGIN:VCARD\r\nVERSION:{version}\r\n");
    let mut uid = None;
    for child in children {
        if child.name.eq_ignore_ascii_case("UID") {
            let value = element_text(child)?.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            uid = Some(value);
        }
        if let Some(line) = content_line(child, version)? {
            text.push_str(&line);
            text.push_str("\r\n");
        }
    }
    let uid = match uid {
        Some(uid) => uid,
        None => {
            let fresh = fresh_uid();
            text.push_str(&format!("UID:{fresh}\r\n"));
            fresh
        }
    };
    text.push_str("END:VCARD\r\n");
    let mut card = parse(&text)?;
    // Reduced dates as text, so that calcard's writer does not rewrite them (see reduced_date).
    for entry in &mut card.entries {
        for value in &mut entry.values {
            if let VCardValue::PartialDateTime(date) = value
                && let Some(reduced) = reduced_date(date)
            {
                *value = VCardValue::Text(reduced);
            }
        }
    }
    let mut out = String::new();
    card.write_to(&mut out, version).map_err(|_| invalid("the vCard cannot be written"))?;
    if let Some(previous) = previous {
        let (lines, first, last) = card_range(previous)?;
        let tags = read_tags(&lines, first, last);
        if !tags.is_empty() {
            out = set_vcard_tags(&out, &tags)?;
        }
    }
    Ok((out, uid))
}

/// `vcf` with its AGAP tags replaced by `tags`, changing nothing else byte for byte.
pub fn set_vcard_tags(vcf: &str, tags: &[String]) -> AgapResult<String> {
    let (lines, first, last) = card_range(vcf)?;
    Ok(replace_tags(vcf, &lines, first, last, tags))
}

/// The logical lines of `vcf` and the BEGIN and END line indexes of its first VCARD.
fn card_range(vcf: &str) -> AgapResult<(Vec<LogicalLine>, usize, usize)> {
    let lines = logical_lines(vcf);
    let first = lines
        .iter()
        .position(|line| line.boundary().is_some_and(|(begin, name)| begin && name == "VCARD"))
        .ok_or_else(|| invalid("no VCARD"))?;
    let mut depth = 0usize;
    let mut last = None;
    for (index, line) in lines.iter().enumerate().skip(first) {
        match line.boundary() {
            Some((true, _)) => depth += 1,
            Some((false, _)) => {
                depth -= 1;
                if depth == 0 {
                    last = Some(index);
                    break;
                }
            }
            None => {}
        }
    }
    let last = last.ok_or_else(|| invalid("the VCARD does not end"))?;
    Ok((lines, first, last))
}

#[cfg(test)]
mod tests;
