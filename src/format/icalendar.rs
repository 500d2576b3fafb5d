//! Calendar resources (VCALENDAR) as AGAP items: `<VEVENT>`, `<VTODO>`, `<VJOURNAL>` and their
//! alarm `<VALARM>` (draft 2.11.2, 2.11.7, 2.11.10), both ways. calcard parses and writes the
//! iCalendar text (unfolding, folding, escaping, VTIMEZONE-based time conversion); what the
//! renderings share with vCard is in `content_line`. Every reading is also listed in
//! docs/calendars.md, section "Renderings".
//!
//! - One element per property of the main component, in order, named as the property (upper
//!   case); parameters are attributes (enumerated values lower case, free text kept). LANGUAGE,
//!   VALUE, CHARSET, ENCODING and TZID are not shown.
//! - Values: the raw property value with `\n` as a line feed; `\,` `\;` `\\` stay escaped.
//!   Binary values (ENCODING=BASE64) are binary content, which the tree writes with
//!   `ENCODED="base64"`.
//! - DATE-TIME values are UTC `yyyy-mm-ddThh:mm:ssZ`: TZID times are converted with the
//!   resource's VTIMEZONE (calcard builds the zone from it) or, for a known name, the IANA
//!   database; floating times and unknown zones are read as UTC (the draft has only UTC times).
//!   DATE values are `yyyy-mm-dd`.
//! - The first VALARM of the main component is the alarm item; the parent shows its UID in a
//!   last `<VALARM>` child. Further VALARMs stay upstream, unseen (one alarm per item, draft).
//! - The AGAP tags live in an `X-AGAP-TAGS` property of the main component, never shown.
//! - A `<VALARM>` naming an alarm not stored yet is kept in an `X-AGAP-VALARM` property, shown
//!   as that `<VALARM>` until an alarm arrives.

use agap_adapter_api::collection::ItemKind;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use calcard::common::IanaString;
use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarParameterValue, ICalendarPeriod, ICalendarProperty, ICalendarValue, Uri,
};
use calcard::{Entry, Parser};
use chrono::TimeZone;

use crate::error::{AgapError, AgapResult};

use super::content_line::{
    LogicalLine, Stamp, TAGS_PROPERTY, attribute_value, element_text, format_date, format_utc, fresh_uid,
    is_attribute_name, is_xml_name, logical_lines, parse_stamp, push_parameter, raw_to_xml, read_tags, refuse_cid,
    replace_tags, written_value, xml_to_raw,
};
use super::tree::{Content, Element};

/// The AGAP view of one calendar resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarView {
    /// iCalendar UID of the main component.
    pub uid: String,
    /// `<VEVENT>`/`<VTODO>`/`<VJOURNAL>`, with a `<VALARM>alarm-uid</VALARM>` child when it has an
    /// alarm.
    pub item: Element,
    /// The first VALARM of the main component, as its own item.
    pub alarm: Option<AlarmView>,
    /// AGAP tags kept in the resource, in stored order.
    pub tags: Vec<String>,
}

/// An alarm as its own item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmView {
    /// Its UID (the VALARM's UID property, else `<parent-uid>-alarm`).
    pub uid: String,
    /// `<VALARM>` with `<UID>`, `<RELATED-TO SOURCE=...>` and its properties.
    pub element: Element,
}

/// What a STORed calendar XML is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarInput {
    /// An event, task or journal.
    Item(Element),
    /// An alarm of one.
    Alarm(Element),
}

/// The property of a main component that keeps the UID its `<VALARM>` named while no such
/// alarm is stored yet (example 7.11 STORs the event before its alarm): RETR shows the link as
/// it was sent, and the alarm resolves it when it arrives. Never shown as a property of its
/// own (docs/interpretations.md, ALARM-LINK-7.11).
const ALARM_LINK_PROPERTY: &str = "X-AGAP-VALARM";

/// PRODID of resources the gateway creates.
const PRODID: &str = "-//agap-gateway//AGAP 04//EN";

/// Parameters never shown: LANGUAGE, VALUE, CHARSET (draft), ENCODING (shown as binary
/// content), TZID (times are UTC).
const DROPPED_PARAMETERS: [&str; 5] = ["LANGUAGE", "VALUE", "CHARSET", "ENCODING", "TZID"];

/// Properties whose values are DATE-TIME (or DATE, or PERIOD) by default.
const DATE_PROPERTIES: [&str; 11] = [
    "DTSTART",
    "DTEND",
    "DUE",
    "RECURRENCE-ID",
    "EXDATE",
    "RDATE",
    "COMPLETED",
    "CREATED",
    "DTSTAMP",
    "LAST-MODIFIED",
    "ACKNOWLEDGED",
];

/// Properties that take binary values; other base64 content is text the tree had to encode.
const BINARY_PROPERTIES: [&str; 2] = ["ATTACH", "IMAGE"];

fn invalid(reason: impl Into<String>) -> AgapError {
    AgapError::invalid(reason.into())
}

/// A component with its children, easier to edit than calcard's flat list.
#[derive(Debug, Clone)]
struct Node {
    kind: ICalendarComponentType,
    entries: Vec<ICalendarEntry>,
    children: Vec<Node>,
}

impl Node {
    fn from_calendar(calendar: &ICalendar) -> AgapResult<Node> {
        fn build(calendar: &ICalendar, id: u32, depth: usize) -> AgapResult<Node> {
            let component =
                calendar.components.get(id as usize).ok_or_else(|| invalid("broken iCalendar structure"))?;
            if depth > 16 {
                return Err(invalid("iCalendar components nested too deeply"));
            }
            let children = component
                .component_ids
                .iter()
                .map(|child| build(calendar, *child, depth + 1))
                .collect::<Result<_, _>>()?;
            Ok(Node { kind: component.component_type.clone(), entries: component.entries.clone(), children })
        }
        build(calendar, 0, 0)
    }

    fn into_calendar(self) -> ICalendar {
        fn flatten(node: Node, components: &mut Vec<ICalendarComponent>) -> u32 {
            let id = components.len() as u32;
            components.push(ICalendarComponent {
                component_type: node.kind,
                entries: node.entries,
                component_ids: Vec::new(),
            });
            let ids: Vec<u32> = node.children.into_iter().map(|child| flatten(child, components)).collect();
            components[id as usize].component_ids = ids;
            id
        }
        let mut components = Vec::new();
        flatten(self, &mut components);
        ICalendar { components }
    }

    fn uid(&self) -> Option<String> {
        self.entries.iter().find(|entry| entry.name == ICalendarProperty::Uid).map(|entry| value_text(entry).0)
    }

    fn is_override(&self) -> bool {
        self.entries.iter().any(|entry| entry.name == ICalendarProperty::RecurrenceId)
    }

    fn first_alarm(&self) -> Option<usize> {
        self.children.iter().position(|child| child.kind == ICalendarComponentType::VAlarm)
    }
}

fn component_name(kind: ItemKind) -> AgapResult<&'static str> {
    kind.component().ok_or_else(|| invalid("not a calendar folder"))
}

fn component_type(kind: ItemKind) -> AgapResult<ICalendarComponentType> {
    Ok(match kind {
        ItemKind::Events => ICalendarComponentType::VEvent,
        ItemKind::Tasks => ICalendarComponentType::VTodo,
        ItemKind::Journals => ICalendarComponentType::VJournal,
        ItemKind::Contacts => return Err(invalid("not a calendar folder")),
    })
}

fn parse(ics: &str) -> AgapResult<ICalendar> {
    let mut calendar = parse_as_calcard_reads(ics)?;
    keep_binary_values(&mut calendar);
    Ok(calendar)
}

/// Gives VALUE=BINARY values their bytes back: calcard decodes ENCODING=BASE64 and keeps the
/// bytes as text when they are UTF-8 (a text/plain ATTACH, say), so they would render as text
/// and be written back without their encoding. RFC 5545 3.2.20 and 3.3.1: a BINARY value is
/// inline base64 data, whatever the bytes are.
fn keep_binary_values(calendar: &mut ICalendar) {
    for component in &mut calendar.components {
        for entry in &mut component.entries {
            let binary = entry.params.iter().any(|parameter| {
                parameter.name == ICalendarParameterName::Value
                    && parameter_text(&parameter.name, &parameter.value).eq_ignore_ascii_case("BINARY")
            });
            if binary && let [ICalendarValue::Text(text)] = entry.values.as_mut_slice() {
                let bytes = std::mem::take(text).into_bytes();
                entry.values = vec![ICalendarValue::Binary(bytes)];
            }
        }
    }
}

fn parse_as_calcard_reads(ics: &str) -> AgapResult<ICalendar> {
    match Parser::new(ics).entry() {
        // A bare component (no VCALENDAR around it, seen in the wild) is read as if wrapped.
        Entry::ICalendar(mut calendar)
            if calendar
                .components
                .first()
                .is_some_and(|root| root.component_type != ICalendarComponentType::VCalendar) =>
        {
            for component in &mut calendar.components {
                component.component_ids.iter_mut().for_each(|id| *id += 1);
            }
            calendar.components.insert(
                0,
                ICalendarComponent {
                    component_type: ICalendarComponentType::VCalendar,
                    entries: Vec::new(),
                    component_ids: vec![1],
                },
            );
            Ok(calendar)
        }
        Entry::ICalendar(calendar) if !calendar.components.is_empty() => Ok(calendar),
        Entry::ICalendar(_) => Err(invalid("empty iCalendar data")),
        other => Err(invalid(format!("not iCalendar data: {other:?}"))),
    }
}

fn write(calendar: &ICalendar) -> String {
    calendar.to_string()
}

/// The main component: the first of `kind` without RECURRENCE-ID, else the first of `kind`.
fn main_index(root: &Node, kind: &ICalendarComponentType) -> AgapResult<usize> {
    let of_kind = |child: &&Node| &child.kind == kind;
    root.children
        .iter()
        .position(|child| of_kind(&child) && !child.is_override())
        .or_else(|| root.children.iter().position(|child| of_kind(&child)))
        .ok_or_else(|| invalid(format!("the resource has no {}", kind.as_str())))
}

/// The text of a parameter value, as calcard read it.
fn parameter_text(name: &ICalendarParameterName, value: &ICalendarParameterValue) -> String {
    match value {
        ICalendarParameterValue::Text(text) => text.clone(),
        ICalendarParameterValue::Integer(number) => number.to_string(),
        ICalendarParameterValue::Bool(_) if *name == ICalendarParameterName::Range => "THISANDFUTURE".into(),
        ICalendarParameterValue::Bool(flag) => if *flag { "TRUE" } else { "FALSE" }.into(),
        ICalendarParameterValue::Uri(Uri::Location(uri)) => uri.clone(),
        ICalendarParameterValue::Uri(Uri::Data(data)) => {
            format!("data:{};base64,{}", data.content_type.as_deref().unwrap_or_default(), STANDARD.encode(&data.data))
        }
        ICalendarParameterValue::Cutype(v) => v.as_str().into(),
        ICalendarParameterValue::Fbtype(v) => v.as_str().into(),
        ICalendarParameterValue::Partstat(v) => v.as_str().into(),
        ICalendarParameterValue::Related(v) => v.as_str().into(),
        ICalendarParameterValue::Reltype(v) => v.as_str().into(),
        ICalendarParameterValue::Role(v) => v.as_str().into(),
        ICalendarParameterValue::ScheduleAgent(v) => v.as_str().into(),
        ICalendarParameterValue::ScheduleForceSend(v) => v.as_str().into(),
        ICalendarParameterValue::Value(v) => v.as_str().into(),
        ICalendarParameterValue::Display(v) => v.as_str().into(),
        ICalendarParameterValue::Feature(v) => v.as_str().into(),
        ICalendarParameterValue::Duration(v) => v.to_string(),
        ICalendarParameterValue::Linkrel(v) => v.as_str().into(),
        ICalendarParameterValue::Null => String::new(),
    }
}

/// Parameters as attributes: repeated parameters gathered in one comma list.
fn attributes(entry: &ICalendarEntry) -> Vec<(String, String)> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    for parameter in &entry.params {
        let name = parameter.name.as_str().to_ascii_uppercase();
        if DROPPED_PARAMETERS.contains(&name.as_str()) || !is_attribute_name(&name) {
            continue;
        }
        let value = attribute_value(&name, &parameter_text(&parameter.name, &parameter.value));
        match attributes.iter_mut().find(|(known, _)| *known == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => attributes.push((name, value)),
        }
    }
    attributes
}

/// A DATE or DATE-TIME as AGAP text, `tz` the zone of its TZID.
fn format_partial(value: &PartialDateTime, tz: Option<Tz>) -> Option<String> {
    let result = value.to_date_time()?;
    if value.hour.is_none() {
        return Some(format_date(result.date_time.date()));
    }
    let utc = match (result.offset, tz) {
        (Some(offset), _) => result.date_time - chrono::TimeDelta::seconds(offset.local_minus_utc().into()),
        (None, Some(tz)) if !tz.is_floating() => {
            let local = tz.from_local_datetime(&result.date_time);
            local.earliest().map(|at| at.naive_utc()).unwrap_or(result.date_time)
        }
        // Floating time: read as UTC.
        (None, _) => result.date_time,
    };
    Some(format_utc(utc))
}

/// The AGAP text of an entry and whether it is binary (then the text is base64).
fn value_text(entry: &ICalendarEntry) -> (String, bool) {
    value_text_in(entry, None)
}

fn value_text_in(entry: &ICalendarEntry, tz: Option<Tz>) -> (String, bool) {
    if let Some(ICalendarValue::Binary(bytes)) = entry.values.first() {
        return (STANDARD.encode(bytes), true);
    }
    let dates = entry
        .values
        .iter()
        .any(|value| matches!(value, ICalendarValue::PartialDateTime(_) | ICalendarValue::Period(_)));
    if dates {
        let parts: Option<Vec<String>> = entry
            .values
            .iter()
            .map(|value| match value {
                ICalendarValue::PartialDateTime(at) => format_partial(at, tz),
                ICalendarValue::Period(ICalendarPeriod::Range { start, end }) => {
                    Some(format!("{}/{}", format_partial(start, tz)?, format_partial(end, tz)?))
                }
                ICalendarValue::Period(ICalendarPeriod::Duration { start, duration }) => {
                    Some(format!("{}/{duration}", format_partial(start, tz)?))
                }
                _ => None,
            })
            .collect();
        if let Some(parts) = parts {
            return (parts.join(","), false);
        }
    }
    // Everything else as calcard's writer escapes it: the entry alone, with only its VALUE
    // parameter (which decides the value's syntax), then the part after the colon.
    let bare = ICalendarEntry {
        name: entry.name.clone(),
        params: entry.params.iter().filter(|p| p.name == ICalendarParameterName::Value).cloned().collect(),
        values: entry.values.clone(),
    };
    let mut line = String::new();
    // Writing to a String cannot fail.
    let _ = bare.write_to(&mut line);
    (raw_to_xml(&written_value(&line)), false)
}

/// The element of one property.
fn property_element(entry: &ICalendarEntry, resolve: &dyn Fn(&str) -> Option<Tz>) -> Element {
    let tz = entry.tz_id().and_then(resolve);
    let (text, binary) = value_text_in(entry, tz);
    let content =
        if binary { Content::Binary(STANDARD.decode(&text).unwrap_or_default()) } else { Content::Text(text) };
    Element { name: entry.name.as_str().to_ascii_uppercase(), attributes: attributes(entry), content }
}

fn is_tags(entry: &ICalendarEntry) -> bool {
    entry.name.as_str().eq_ignore_ascii_case(TAGS_PROPERTY)
}

fn is_alarm_link(entry: &ICalendarEntry) -> bool {
    entry.name.as_str().eq_ignore_ascii_case(ALARM_LINK_PROPERTY)
}

/// The pending alarm link of a component, if it has one (see [`ALARM_LINK_PROPERTY`]).
fn alarm_link(node: &Node) -> Option<String> {
    // The value as calcard unescaped it: the link is an identifier, shown as it was sent.
    let entry = node.entries.iter().find(|entry| is_alarm_link(entry))?;
    let link: String = entry
        .values
        .iter()
        .filter_map(|value| match value {
            ICalendarValue::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(",");
    Some(link).filter(|link| !link.is_empty())
}

/// The entry keeping a pending alarm link.
fn alarm_link_entry(link: &str) -> ICalendarEntry {
    ICalendarEntry {
        name: ICalendarProperty::Other(ALARM_LINK_PROPERTY.into()),
        params: Vec::new(),
        values: vec![ICalendarValue::Text(link.to_owned())],
    }
}

/// The UID of the alarm of a parent: its own UID property, else derived from the parent's.
fn alarm_uid(alarm: &Node, parent_uid: &str) -> String {
    alarm.uid().filter(|uid| !uid.is_empty()).unwrap_or_else(|| format!("{parent_uid}-alarm"))
}

/// The AGAP view of one calendar resource (a VCALENDAR). Main component: the first component
/// of `kind` without RECURRENCE-ID (else the first of `kind`); 511 if there is none or the text
/// does not parse.
pub fn render_calendar(ics: &str, kind: ItemKind) -> AgapResult<CalendarView> {
    let Resource { name, calendar, text_lines, first, last, root, main } = Resource::read(ics, kind)?;
    let resolver = calendar.build_tz_resolver();
    let custom: Vec<(String, Tz)> = root
        .children
        .iter()
        .filter(|child| child.kind == ICalendarComponentType::VTimezone)
        .filter_map(|zone| Some((timezone_id(zone)?, fixed_zone(zone)?)))
        .collect();
    let resolve =
        |id: &str| resolver.resolve(id).or_else(|| custom.iter().find(|(known, _)| known == id).map(|(_, tz)| *tz));
    let main = &root.children[main];
    let uid = main.uid().unwrap_or_default();
    let shown = |entry: &&ICalendarEntry| !is_tags(entry) && !is_alarm_link(entry) && is_xml_name(entry.name.as_str());
    let mut children: Vec<Element> =
        main.entries.iter().filter(shown).map(|entry| property_element(entry, &resolve)).collect();
    let alarm = main.first_alarm().map(|index| {
        let node = &main.children[index];
        let alarm_uid = alarm_uid(node, &uid);
        let mut elements = vec![
            Element::text("UID", alarm_uid.clone()),
            Element {
                name: "RELATED-TO".into(),
                attributes: vec![("SOURCE".into(), name.to_ascii_lowercase())],
                content: Content::Text(uid.clone()),
            },
        ];
        // The alarm's own UID and RELATED-TO are the two above.
        elements.extend(
            node.entries
                .iter()
                .filter(|entry| !matches!(entry.name, ICalendarProperty::Uid | ICalendarProperty::RelatedTo))
                .filter(shown)
                .map(|entry| property_element(entry, &resolve)),
        );
        children.push(Element::text("VALARM", alarm_uid.clone()));
        AlarmView { uid: alarm_uid, element: Element::parent("VALARM", elements) }
    });
    // A link to an alarm not stored yet is shown as sent; it is no alarm item.
    if alarm.is_none()
        && let Some(link) = alarm_link(main)
    {
        children.push(Element::text("VALARM", link));
    }
    Ok(CalendarView { uid, item: Element::parent(name, children), alarm, tags: read_tags(&text_lines, first, last) })
}

/// Whether `render_calendar` would show an alarm item for this resource, without rendering it:
/// what the UID map records for every resource it sees, so a first listing of a large calendar
/// must not pay for a rendering (time zones resolved, every property made into XML) each.
/// A resource that would not render has none, as there.
pub fn has_alarm(ics: &str, kind: ItemKind) -> bool {
    Resource::read(ics, kind).is_ok_and(|resource| resource.root.children[resource.main].first_alarm().is_some())
}

/// A resource read for rendering: what `render_calendar` and `has_alarm` both start from, so
/// that they agree on which resources render and which component is the item.
struct Resource {
    /// VEVENT, VTODO or VJOURNAL.
    name: &'static str,
    calendar: ICalendar,
    /// The logical lines of the text, and the main component's first and last (for the tags).
    text_lines: Vec<LogicalLine>,
    first: usize,
    last: usize,
    root: Node,
    /// The main component's index among the root's children.
    main: usize,
}

impl Resource {
    fn read(ics: &str, kind: ItemKind) -> AgapResult<Self> {
        let name = component_name(kind)?;
        let calendar = parse(ics)?;
        let (text_lines, first, last) = main_range(ics, name)?;
        let root = Node::from_calendar(&calendar)?;
        let main = main_index(&root, &component_type(kind)?)?;
        Ok(Self { name, calendar, text_lines, first, last, root, main })
    }
}

/// Checks the root element against the folder kind: VEVENT/VTODO/VJOURNAL for the kind, or
/// VALARM (only for Events and Tasks); anything else 511.
pub fn read_calendar_input(root: Element, kind: ItemKind) -> AgapResult<CalendarInput> {
    let name = component_name(kind)?;
    if root.name.eq_ignore_ascii_case(name) {
        return Ok(CalendarInput::Item(root));
    }
    if root.name.eq_ignore_ascii_case("VALARM") && matches!(kind, ItemKind::Events | ItemKind::Tasks) {
        return Ok(CalendarInput::Alarm(root));
    }
    Err(invalid(format!("<{}> cannot be stored in a {name} folder", root.name)))
}

fn children(element: &Element) -> &[Element] {
    match &element.content {
        Content::Children(children) => children,
        _ => &[],
    }
}

/// The content line of one element of STORed XML; `None` for elements that are no property.
fn content_line(element: &Element) -> AgapResult<Option<String>> {
    let name = element.name.to_ascii_uppercase();
    let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid_name {
        return Err(invalid(format!("<{}> is not an iCalendar property", element.name)));
    }
    if name == TAGS_PROPERTY || name == ALARM_LINK_PROPERTY || matches!(element.content, Content::Children(_)) {
        // Tags come from the stored resource, the alarm link from <VALARM>; nested components
        // other than VALARM are ignored.
        return Ok(None);
    }
    let mut line = name.clone();
    for (attribute, value) in &element.attributes {
        let upper = attribute.to_ascii_uppercase();
        if !["VALUE", "ENCODING", "CHARSET", "TZID", "ENCODED"].contains(&upper.as_str()) {
            push_parameter(&mut line, &upper, value, false);
        }
    }
    if let Content::Binary(bytes) = &element.content
        && (BINARY_PROPERTIES.contains(&name.as_str()) || std::str::from_utf8(bytes).is_err())
    {
        line.push_str(";ENCODING=BASE64;VALUE=BINARY:");
        line.push_str(&STANDARD.encode(bytes));
        return Ok(Some(line));
    }
    let text = element_text(element)?;
    refuse_cid(element, &text)?;
    let trimmed = text.trim();
    if name == "DURATION" && !(trimmed.starts_with('P') || trimmed.starts_with("-P") || trimmed.starts_with("+P")) {
        return Err(invalid("DURATION must be relative (P... or -P...)"));
    }
    let value = if DATE_PROPERTIES.contains(&name.as_str()) || (name == "TRIGGER" && parse_stamp(trimmed).is_some()) {
        let mut dates = true;
        let mut period = false;
        let mut parts = Vec::new();
        for part in trimmed.split(',') {
            let mut pieces = Vec::new();
            for (index, piece) in part.split('/').enumerate() {
                match parse_stamp(piece) {
                    Some(stamp) => {
                        dates &= matches!(stamp, Stamp::Date(_));
                        pieces.push(stamp.basic());
                    }
                    None if index == 1 && piece.trim().starts_with(['P', '-', '+']) => pieces.push(piece.trim().into()),
                    None => return Err(invalid(format!("<{name}>: {piece:?} is not a timestamp"))),
                }
                period |= index == 1;
            }
            parts.push(pieces.join("/"));
        }
        if period {
            line.push_str(";VALUE=PERIOD");
        } else if dates {
            line.push_str(";VALUE=DATE");
        } else if name == "TRIGGER" {
            line.push_str(";VALUE=DATE-TIME");
        }
        parts.join(",")
    } else {
        // In iCalendar every property that may hold a URI has URI (or CAL-ADDRESS) as its
        // default type, so a URI value needs no VALUE=URI.
        xml_to_raw(&text)
    };
    line.push(':');
    line.push_str(&value);
    Ok(Some(line))
}

/// Parses content lines as the properties of one component of type `name`, nested in
/// `outer` components.
fn parse_component(lines: &[String], name: &str, outer: &[&str]) -> AgapResult<Node> {
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for component in outer {
        text.push_str(&format!("BEGIN:{component}\r\n"));
    }
    text.push_str(&format!("BEGIN:{name}\r\n"));
    for line in lines {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str(&format!("END:{name}\r\n"));
    for component in outer.iter().rev() {
        text.push_str(&format!("END:{component}\r\n"));
    }
    text.push_str("END:VCALENDAR\r\n");
    let mut node = Node::from_calendar(&parse(&text)?)?;
    for _ in 0..=outer.len() {
        if node.children.is_empty() {
            return Err(invalid(format!("the {name} does not parse")));
        }
        node = node.children.swap_remove(0);
    }
    Ok(node)
}

/// TZIDs referenced by the components of `node` (VTIMEZONEs excluded).
fn used_zones(node: &Node, zones: &mut Vec<String>) {
    if node.kind == ICalendarComponentType::VTimezone {
        return;
    }
    for entry in &node.entries {
        if let Some(id) = entry.tz_id() {
            zones.push(id.to_owned());
        }
    }
    for child in &node.children {
        used_zones(child, zones);
    }
}

fn timezone_id(node: &Node) -> Option<String> {
    node.entries.iter().find(|entry| entry.name == ICalendarProperty::Tzid).map(|entry| value_text(entry).0)
}

/// The iCalendar resource (whole VCALENDAR text, CRLF, folded) for a STORed item. When
/// `previous` (the resource it replaces) is given, keep from it: the other components
/// (RECURRENCE-ID overrides and the VTIMEZONEs they use), the alarm of the main component when
/// the item's <VALARM> names that alarm's UID, and the tags. A <VALARM> naming no stored alarm
/// is kept as a link for the alarm to come (ALARM-LINK-7.11). An item without <UID> gets a
/// fresh one. Returns the text and the item's iCalendar UID.
pub fn calendar_from_xml(item: &Element, kind: ItemKind, previous: Option<&str>) -> AgapResult<(String, String)> {
    let name = component_name(kind)?;
    if !item.name.eq_ignore_ascii_case(name) {
        return Err(invalid(format!("<{}> is not a {name}", item.name)));
    }
    let mut lines = Vec::new();
    let mut named_alarm = None;
    let mut uid = None;
    for child in children(item) {
        if child.name.eq_ignore_ascii_case("VALARM") {
            named_alarm = Some(element_text(child)?.trim().to_owned()).filter(|link| !link.is_empty());
            continue;
        }
        if child.name.eq_ignore_ascii_case("UID") {
            let text = element_text(child)?;
            if text.trim().is_empty() {
                continue;
            }
            uid = Some(text);
        }
        if let Some(line) = content_line(child)? {
            lines.push(line);
        }
    }
    let uid = match uid {
        Some(uid) => uid,
        None => {
            let fresh = fresh_uid();
            lines.insert(0, format!("UID:{fresh}"));
            fresh
        }
    };
    let mut main = parse_component(&lines, name, &[])?;
    let tags = match previous {
        Some(previous) => {
            let (text_lines, first, last) = main_range(previous, name)?;
            read_tags(&text_lines, first, last)
        }
        None => Vec::new(),
    };
    let root = match previous {
        Some(previous) => {
            let mut root = Node::from_calendar(&parse(previous)?)?;
            let index = main_index(&root, &component_type(kind)?)?;
            let old = root.children.remove(index);
            let old_uid = old.uid().unwrap_or_default();
            // The client keeps the alarm (and the unseen further ones) by naming it; otherwise
            // the item has no alarm any more.
            let keeps_alarm = old.first_alarm().is_some_and(|first| {
                named_alarm.as_deref() == Some(alarm_uid(&old.children[first], &old_uid).as_str())
            });
            if keeps_alarm {
                main.children =
                    old.children.into_iter().filter(|child| child.kind == ICalendarComponentType::VAlarm).collect();
            } else if let Some(link) = &named_alarm {
                main.entries.push(alarm_link_entry(link));
            }
            root.children.insert(index, main);
            let mut zones = Vec::new();
            used_zones(&root, &mut zones);
            root.children.retain(|child| {
                child.kind != ICalendarComponentType::VTimezone
                    || timezone_id(child).is_some_and(|id| zones.contains(&id))
            });
            root
        }
        None => {
            if let Some(link) = &named_alarm {
                main.entries.push(alarm_link_entry(link));
            }
            let header = parse(&format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nEND:VCALENDAR\r\n"))?;
            let mut root = Node::from_calendar(&header)?;
            root.children = vec![main];
            root
        }
    };
    let text = write(&root.into_calendar());
    let text = if tags.is_empty() { text } else { set_calendar_tags(&text, kind, &tags)? };
    Ok((text, uid))
}

/// The iCalendar UID an alarm XML is RELATED-TO (its parent), 511 if missing.
pub fn alarm_parent_uid(alarm: &Element) -> AgapResult<String> {
    let related = alarm.child("RELATED-TO").ok_or_else(|| invalid("the VALARM has no RELATED-TO"))?;
    let uid = element_text(related)?.trim().to_owned();
    if uid.is_empty() {
        return Err(invalid("the VALARM has an empty RELATED-TO"));
    }
    Ok(uid)
}

/// `parent_ics` with `alarm` as the (only AGAP-visible, i.e. first) VALARM of its main
/// component, replacing the first existing one; the alarm keeps its <UID> as a UID property of
/// the VALARM (RFC 9074) so that it renders with the same UID.
pub fn attach_alarm(parent_ics: &str, kind: ItemKind, alarm: &Element) -> AgapResult<String> {
    let name = component_name(kind)?;
    if !alarm.name.eq_ignore_ascii_case("VALARM") {
        return Err(invalid(format!("<{}> is not a VALARM", alarm.name)));
    }
    let mut lines = Vec::new();
    for child in children(alarm) {
        // RELATED-TO is the link to the parent, which the nesting now expresses.
        if child.name.eq_ignore_ascii_case("RELATED-TO") {
            continue;
        }
        if let Some(line) = content_line(child)? {
            lines.push(line);
        }
    }
    let node = parse_component(&lines, "VALARM", &[name])?;
    let mut root = Node::from_calendar(&parse(parent_ics)?)?;
    let index = main_index(&root, &component_type(kind)?)?;
    let main = &mut root.children[index];
    match main.first_alarm() {
        Some(first) => main.children[first] = node,
        None => main.children.push(node),
    }
    // The alarm that arrives is the item's one alarm: a link still waiting is resolved by it.
    main.entries.retain(|entry| !is_alarm_link(entry));
    Ok(write(&root.into_calendar()))
}

/// `ics` as a copy of its own: a fresh iCalendar UID in place of the main component's, in every
/// component that shares it (the overrides of a recurring item), everything else kept (tags,
/// alarms, other components). For a server that keeps a UID unique among all of a user's
/// calendars (docs/interpretations.md, COPY-FRESH-UID). Returns the text and the new UID.
pub fn with_fresh_uid(ics: &str, kind: ItemKind) -> AgapResult<(String, String)> {
    let mut root = Node::from_calendar(&parse(ics)?)?;
    let component = component_type(kind)?;
    let index = main_index(&root, &component)?;
    let old = root.children[index].uid();
    let fresh = fresh_uid();
    let uid_entry = || ICalendarEntry {
        name: ICalendarProperty::Uid,
        params: Vec::new(),
        values: vec![ICalendarValue::Text(fresh.clone())],
    };
    for (position, child) in root.children.iter_mut().enumerate() {
        let shares = child.kind == component && old.is_some() && child.uid() == old;
        if !shares && position != index {
            continue;
        }
        match child.entries.iter_mut().find(|entry| entry.name == ICalendarProperty::Uid) {
            Some(entry) => *entry = uid_entry(),
            None => child.entries.insert(0, uid_entry()),
        }
    }
    Ok((write(&root.into_calendar()), fresh))
}

/// `ics` without the first VALARM of its main component (DELE of an alarm item).
pub fn detach_alarm(ics: &str, kind: ItemKind) -> AgapResult<String> {
    let mut root = Node::from_calendar(&parse(ics)?)?;
    let index = main_index(&root, &component_type(kind)?)?;
    let main = &mut root.children[index];
    if let Some(first) = main.first_alarm() {
        main.children.remove(first);
    }
    Ok(write(&root.into_calendar()))
}

/// `ics` with its AGAP tags replaced by `tags`, changing nothing else byte for byte (the content
/// lines of the main component are edited textually, unfolding-aware).
pub fn set_calendar_tags(ics: &str, kind: ItemKind, tags: &[String]) -> AgapResult<String> {
    let (lines, first, last) = main_range(ics, component_name(kind)?)?;
    Ok(replace_tags(ics, &lines, first, last, tags))
}

/// The logical lines of `ics` and the BEGIN and END line indexes of its main component
/// (`name` directly inside the VCALENDAR; the first without RECURRENCE-ID, else the first).
fn main_range(ics: &str, name: &str) -> AgapResult<(Vec<LogicalLine>, usize, usize)> {
    let lines = logical_lines(ics);
    // Components of `name` directly inside the VCALENDAR: (BEGIN index, END index, override).
    let mut found: Vec<(usize, usize, bool)> = Vec::new();
    let mut stack: Vec<(String, usize, bool)> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        match line.boundary() {
            Some((true, component)) => stack.push((component, index, false)),
            Some((false, _)) => {
                if let Some((component, begin, is_override)) = stack.pop()
                    && component == name
                    && stack.iter().all(|(outer, _, _)| outer == "VCALENDAR")
                {
                    found.push((begin, index, is_override));
                }
            }
            None => {
                if line.name() == "RECURRENCE-ID"
                    && let Some(top) = stack.last_mut()
                {
                    top.2 = true;
                }
            }
        }
    }
    let (first, last, _) = found
        .iter()
        .find(|(_, _, is_override)| !is_override)
        .or_else(|| found.first())
        .copied()
        .ok_or_else(|| invalid(format!("the resource has no {name}")))?;
    Ok((lines, first, last))
}

/// A fixed zone for a VTIMEZONE calcard cannot map to an IANA zone (its TZID, X-LIC-LOCATION
/// or Microsoft id name none): calcard does not evaluate VTIMEZONE observance rules itself, so
/// such a zone is read as the TZOFFSETTO of its STANDARD observance (else its first one). This
/// is exact for zones without daylight saving time and may be an hour off in summer for custom
/// zones with it (a known gap; such zones are rare: clients send IANA names).
fn fixed_zone(zone: &Node) -> Option<Tz> {
    let observance = zone
        .children
        .iter()
        .find(|child| child.kind == ICalendarComponentType::Standard)
        .or_else(|| zone.children.first())?;
    let entry = observance.entries.iter().find(|entry| entry.name == ICalendarProperty::Tzoffsetto)?;
    let text: String = value_text(entry).0.chars().filter(|c| *c != ':').collect();
    let (sign, digits) = match text.split_at_checked(1)? {
        ("-", digits) => (-1, digits),
        ("+", digits) => (1, digits),
        _ => (1, text.as_str()),
    };
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4).unwrap_or("00").parse().ok()?;
    chrono::FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(Tz::Fixed)
}

#[cfg(test)]
mod tests;
