use super::*;
use crate::format::corpus::{RoundTrip, check_round_trips};
use crate::format::xml_reader::parse_xml;

/// Fig 2 with Fig 4 as its alarm, as a CalDAV server holds it: basic timestamps, and DTEND
/// 24:00 as the next day's 00:00 (docs/interpretations.md, `DTEND-24`).
const FIG_2_4: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n\
UID:20110531T114600Z-123456@agap.at\r\nDTSTAMP:20110531T121000Z\r\nDTSTART:20110607T180000Z\r\n\
DTEND:20110608T000000Z\r\nSUMMARY:AGAP RFC Party\r\nDESCRIPTION:Celebration of a new revision!\\n0.4\r\n\
BEGIN:VALARM\r\nUID:20110607T170000Z-20110531T114600Z-123456@agap.at\r\n\
TRIGGER;RELATED=START;VALUE=DATE-TIME:20110607T170000Z\r\nREPEAT:3\r\nDURATION:PT15M\r\nACTION:AUDIO\r\n\
ATTACH;FMTTYPE=audio/mpeg;VALUE=BINARY;ENCODING=BASE64:\r\n  ABCDEFGHIJ==\r\nEND:VALARM\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

/// Fig 3 as the gateway writes it (modulo indentation): DTEND as the next day's midnight.
const FIG_3: &str = "<VEVENT>
  <UID>20110531T114600Z-123456@agap.at</UID>
  <DTSTAMP>2011-05-31T12:10:00Z</DTSTAMP>
  <DTSTART>2011-06-07T18:00:00Z</DTSTART>
  <DTEND>2011-06-08T00:00:00Z</DTEND>
<SUMMARY>AGAP RFC Party</SUMMARY>
<DESCRIPTION>Celebration of a new revision!
0.4</DESCRIPTION>
<VALARM>20110607T170000Z-20110531T114600Z-123456@agap.at</VALARM>
</VEVENT>";

const FIG_5: &str = "<VALARM>
  <UID>20110607T170000Z-20110531T114600Z-123456@agap.at</UID>
  <RELATED-TO SOURCE=\"vevent\">
    20110531T114600Z-123456@agap.at</RELATED-TO>
  <TRIGGER RELATED=\"start\">2011-06-07T17:00:00Z</TRIGGER>
  <REPEAT>3</REPEAT>
  <DURATION>PT15M</DURATION>
  <ACTION>AUDIO</ACTION>
  <ATTACH FMTTYPE=\"audio/mpeg\" ENCODED=\"base64\">
    ABCDEFGHIJ==</ATTACH>
</VALARM>";

const FIG_14: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\n\
UID:20110531T184600Z-123456@agap.at\r\nDTSTAMP:20110607T135238Z\r\nDTSTART:20110607T135238Z\r\n\
SUMMARY:Revise AGAP Internet-Draft\r\nDESCRIPTION:1. The draft was revised\\, saved and\r\n  closed.\\n2. It is ready to be published.\\n\r\n\
ATTACH;FMTTYPE=text/plain;VALUE=BINARY;ENCODING=BASE64:\r\n  ABCDEFGHIJ==\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n";

/// Fig 15 without the pretty-printing indentation inside DESCRIPTION (docs/interpretations.md,
/// FIG15-INDENT).
const FIG_15: &str = "<VJOURNAL>
  <UID>20110531T184600Z-123456@agap.at</UID>
  <DTSTAMP>2011-06-07T13:52:38Z</DTSTAMP>
  <DTSTART>2011-06-07T13:52:38Z</DTSTART>
  <SUMMARY>Revise AGAP Internet-Draft</SUMMARY>
  <DESCRIPTION>1. The draft was revised\\, saved and closed.
2. It is ready to be published.
</DESCRIPTION>
  <ATTACH FMTTYPE=\"text/plain\" ENCODED=\"base64\">
    ABCDEFGHIJ==</ATTACH>
</VJOURNAL>";

const FIG_20_22: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n\
UID:20110531T184600Z-123456@agap.at\r\nDTSTAMP:20110531T184600Z\r\nDTSTART:20110607T120000Z\r\n\
DUE:20110607T140000Z\r\nCOMPLETED:20110607T135238Z\r\nSUMMARY:Revise AGAP Internet-Draft\r\nPRIORITY:1\r\n\
STATUS:NEEDS-ACTION\r\nATTACH;FMTTYPE=text/plain;VALUE=BINARY;ENCODING=BASE64:\r\n  ABCDEFGHIJ==\r\n\
BEGIN:VALARM\r\nUID:20110607T170000Z-20110531T184600Z-123456@agap.at\r\n\
TRIGGER;RELATED=START;VALUE=DATE-TIME:20110607T170000Z\r\nREPEAT:3\r\nDURATION:PT15M\r\nACTION:AUDIO\r\n\
ATTACH;FMTTYPE=audio/mpeg;VALUE=BINARY;ENCODING=BASE64:\r\n  ABCDEFGHIJ==\r\nEND:VALARM\r\nEND:VTODO\r\n\
END:VCALENDAR\r\n";

const FIG_21: &str = "<VTODO>
  <UID>20110531T184600Z-123456@agap.at</UID>
  <DTSTAMP>2011-05-31T18:46:00Z</DTSTAMP>
  <DTSTART>2011-06-07T12:00:00Z</DTSTART>
<DUE>2011-06-07T14:00:00Z</DUE>
<COMPLETED>2011-06-07T13:52:38Z</COMPLETED>
<SUMMARY>Revise AGAP Internet-Draft</SUMMARY>
<PRIORITY>1</PRIORITY>
<STATUS>NEEDS-ACTION</STATUS>
<ATTACH FMTTYPE=\"text/plain\" ENCODED=\"base64\">
  ABCDEFGHIJ==</ATTACH>
<VALARM>20110607T170000Z-20110531T184600Z-123456@agap.at</VALARM>
</VTODO>";

const FIG_23: &str = "<VALARM>
  <UID>20110607T170000Z-20110531T184600Z-123456@agap.at</UID>
  <RELATED-TO SOURCE=\"vtodo\">
    20110531T184600Z-123456@agap.at</RELATED-TO>
  <TRIGGER RELATED=\"start\">2011-06-07T17:00:00Z</TRIGGER>
  <REPEAT>3</REPEAT>
  <DURATION>PT15M</DURATION>
  <ACTION>AUDIO</ACTION>
  <ATTACH FMTTYPE=\"audio/mpeg\" ENCODED=\"base64\">
    ABCDEFGHIJ==</ATTACH>
</VALARM>";

/// A figure's XML as an element tree, indentation between elements and around identifiers
/// removed (the figures are pretty-printed).
fn figure(xml: &str) -> Element {
    fn tidy(element: Element) -> Element {
        let content = match element.content {
            Content::Children(children) => Content::Children(children.into_iter().map(tidy).collect()),
            Content::Text(text) if ["UID", "RELATED-TO", "VALARM"].contains(&element.name.as_str()) => {
                Content::Text(text.trim().to_owned())
            }
            other => other,
        };
        Element { content, ..element }
    }
    tidy(parse_xml(xml).expect("figure parses"))
}

fn on_the_wire(element: &Element) -> Element {
    parse_xml(&element.to_lines(1022).join("\n")).expect("rendering parses")
}

#[test]
fn fig_2_renders_as_fig_3_and_fig_4_as_fig_5() {
    let view = render_calendar(FIG_2_4, ItemKind::Events).expect("renders");
    assert_eq!(view.uid, "20110531T114600Z-123456@agap.at");
    assert_eq!(on_the_wire(&view.item), figure(FIG_3));
    let alarm = view.alarm.expect("alarm");
    assert_eq!(alarm.uid, "20110607T170000Z-20110531T114600Z-123456@agap.at");
    assert_eq!(on_the_wire(&alarm.element), figure(FIG_5));
    // The base64 of the figure is not canonical (its last bits are not zero); the bytes agree.
    assert!(alarm.element.to_lines(1022).iter().any(|line| line.contains("ABCDEFGHIA==")));
    assert!(view.tags.is_empty());
}

#[test]
fn fig_3_and_fig_5_store_as_fig_2_and_fig_4() {
    let mut fig_3 = figure(FIG_3);
    // Fig 3 as printed: DTEND 24:00.
    if let Content::Children(children) = &mut fig_3.content {
        children[3].content = Content::Text("2011-06-07T24:00:00Z".into());
    }
    let (ics, uid) = calendar_from_xml(&fig_3, ItemKind::Events, None).expect("stores");
    assert_eq!(uid, "20110531T114600Z-123456@agap.at");
    assert!(ics.contains("DTEND:20110608T000000Z\r\n"), "{ics}");
    assert!(ics.contains("DESCRIPTION:Celebration of a new revision!\\n0.4\r\n"), "{ics}");
    assert!(!ics.contains("BEGIN:VALARM"), "the alarm comes as its own item");
    let alarm = figure(FIG_5);
    assert!(matches!(read_calendar_input(alarm.clone(), ItemKind::Events), Ok(CalendarInput::Alarm(_))));
    assert_eq!(alarm_parent_uid(&alarm).expect("parent"), uid);
    let with_alarm = attach_alarm(&ics, ItemKind::Events, &alarm).expect("attaches");
    let view = render_calendar(&with_alarm, ItemKind::Events).expect("renders");
    assert_eq!(on_the_wire(&view.item), figure(FIG_3));
    assert_eq!(on_the_wire(&view.alarm.expect("alarm").element), figure(FIG_5));
    let without = detach_alarm(&with_alarm, ItemKind::Events).expect("detaches");
    let view = render_calendar(&without, ItemKind::Events).expect("renders");
    assert!(view.alarm.is_none() && view.item.child("VALARM").is_none());
}

#[test]
fn fig_14_and_fig_15_both_ways() {
    let view = render_calendar(FIG_14, ItemKind::Journals).expect("renders");
    assert_eq!(on_the_wire(&view.item), figure(FIG_15));
    let (ics, _) = calendar_from_xml(&figure(FIG_15), ItemKind::Journals, None).expect("stores");
    assert_eq!(render_calendar(&ics, ItemKind::Journals).expect("renders").item, view.item);
    assert!(ics.contains("ATTACH;ENCODING=BASE64"), "{ics}");
}

#[test]
fn a_binary_value_stays_binary_whatever_its_bytes() {
    // Base64 of UTF-8 text: still a BINARY value (RFC 5545 3.3.1), never turned into text.
    let xml = "<VJOURNAL><UID>b@x</UID><DTSTAMP>2011-06-07T13:52:38Z</DTSTAMP>\
               <ATTACH FMTTYPE=\"text/plain\" ENCODED=\"base64\">aGVsbG8gd29ybGQ=</ATTACH></VJOURNAL>";
    let (ics, _) = calendar_from_xml(&parse_xml(xml).expect("xml"), ItemKind::Journals, None).expect("stores");
    assert!(ics.contains("ATTACH;ENCODING=BASE64;FMTTYPE=text/plain;VALUE=BINARY:aGVsbG8gd29ybGQ=\r\n"), "{ics}");
    let view = render_calendar(&ics, ItemKind::Journals).expect("renders");
    let attach = view.item.child("ATTACH").expect("an ATTACH");
    assert_eq!(attach.content, Content::Binary(b"hello world".to_vec()));
    assert!(view.item.to_lines(1022).iter().any(|line| line.contains("ENCODED=\"base64\"")));
    // As another client writes it, parameters in any order.
    let other = ics.replace(
        "ATTACH;ENCODING=BASE64;FMTTYPE=text/plain;VALUE=BINARY:",
        "ATTACH;VALUE=BINARY;FMTTYPE=text/plain;ENCODING=BASE64:",
    );
    let view = render_calendar(&other, ItemKind::Journals).expect("renders");
    assert_eq!(view.item.child("ATTACH").expect("an ATTACH").content, Content::Binary(b"hello world".to_vec()));
}

#[test]
fn an_alarm_named_before_it_is_stored_keeps_its_link() {
    // Example 7.11: the event names its alarm, which comes in a later STOR.
    let (ics, _) = calendar_from_xml(&figure(FIG_3), ItemKind::Events, None).expect("stores");
    assert!(!ics.contains("BEGIN:VALARM"), "the link is no alarm: {ics}");
    let view = render_calendar(&ics, ItemKind::Events).expect("renders");
    assert_eq!(on_the_wire(&view.item), figure(FIG_3), "the link as sent");
    assert!(view.alarm.is_none());
    assert!(!has_alarm(&ics, ItemKind::Events));
    // STORed again with the link: still waiting; without it: gone.
    let (again, _) = calendar_from_xml(&figure(FIG_3), ItemKind::Events, Some(&ics)).expect("stores");
    assert_eq!(on_the_wire(&render_calendar(&again, ItemKind::Events).expect("renders").item), figure(FIG_3));
    let unlinked = without(&figure(FIG_3), "VALARM");
    let (dropped, _) = calendar_from_xml(&unlinked, ItemKind::Events, Some(&ics)).expect("stores");
    assert_eq!(render_calendar(&dropped, ItemKind::Events).expect("renders").item, unlinked);
    // The alarm arrives: it resolves the link, and leaves with DELE.
    let with_alarm = attach_alarm(&again, ItemKind::Events, &figure(FIG_5)).expect("attaches");
    assert!(!with_alarm.contains("X-AGAP-VALARM"), "{with_alarm}");
    let view = render_calendar(&with_alarm, ItemKind::Events).expect("renders");
    assert_eq!(on_the_wire(&view.item), figure(FIG_3));
    assert_eq!(on_the_wire(&view.alarm.expect("alarm").element), figure(FIG_5));
    let detached = detach_alarm(&with_alarm, ItemKind::Events).expect("detaches");
    assert!(render_calendar(&detached, ItemKind::Events).expect("renders").item.child("VALARM").is_none());
    // The property never comes in from the client.
    let mut forged = figure(FIG_3);
    if let Content::Children(children) = &mut forged.content {
        children.pop();
        children.push(Element::text("X-AGAP-VALARM", "forged"));
    }
    let (ics, _) = calendar_from_xml(&forged, ItemKind::Events, None).expect("stores");
    assert!(!ics.contains("forged"), "{ics}");
}

#[test]
fn fig_20_to_23_both_ways() {
    let view = render_calendar(FIG_20_22, ItemKind::Tasks).expect("renders");
    assert_eq!(on_the_wire(&view.item), figure(FIG_21));
    let alarm = view.alarm.clone().expect("alarm");
    assert_eq!(on_the_wire(&alarm.element), figure(FIG_23));
    let (ics, _) = calendar_from_xml(&figure(FIG_21), ItemKind::Tasks, Some(FIG_20_22)).expect("stores");
    let again = render_calendar(&ics, ItemKind::Tasks).expect("renders");
    assert_eq!(again, view, "the alarm named by <VALARM> is kept");
    let stored = attach_alarm(&ics, ItemKind::Tasks, &figure(FIG_23)).expect("attaches");
    assert_eq!(render_calendar(&stored, ItemKind::Tasks).expect("renders"), view);
}

#[test]
fn input_is_checked_against_the_folder() {
    let event = Element::parent("VEVENT", vec![]);
    assert!(matches!(read_calendar_input(event.clone(), ItemKind::Events), Ok(CalendarInput::Item(_))));
    assert!(read_calendar_input(event, ItemKind::Tasks).is_err());
    assert!(read_calendar_input(Element::parent("VALARM", vec![]), ItemKind::Journals).is_err());
    assert!(read_calendar_input(Element::parent("VCARD", vec![]), ItemKind::Events).is_err());
    assert!(alarm_parent_uid(&Element::parent("VALARM", vec![])).is_err());
    assert!(render_calendar("not a calendar", ItemKind::Events).is_err());
    assert!(render_calendar(FIG_14, ItemKind::Events).is_err());
}

#[test]
fn refused_values() {
    let with = |child: Element| Element::parent("VEVENT", vec![Element::text("UID", "x"), child]);
    assert!(
        calendar_from_xml(&with(Element::text("DURATION", "2011-06-07T00:00:00Z")), ItemKind::Events, None).is_err()
    );
    assert!(calendar_from_xml(&with(Element::text("DURATION", "-PT15M")), ItemKind::Events, None).is_ok());
    assert!(
        calendar_from_xml(&with(Element::text("ATTACH", "CID:part1@example.com")), ItemKind::Events, None).is_err()
    );
    assert!(calendar_from_xml(&with(Element::text("DTSTART", "tomorrow")), ItemKind::Events, None).is_err());
}

#[test]
fn zones_floating_and_all_day_times() {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:My Zone\r\nBEGIN:STANDARD\r\n\
DTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n\
UID:z\r\nDTSTART;TZID=Europe/Vienna:20110607T200000\r\nDTEND;TZID=My Zone:20110608T053000\r\n\
RECURRENCE-ID:20110101T100000\r\nEXDATE;VALUE=DATE:20110607,20110608\r\nDUE;VALUE=DATE:20111231\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let item = render_calendar(ics, ItemKind::Events).expect("renders").item;
    let text = |name: &str| match &item.child(name).expect(name).content {
        Content::Text(text) => text.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text("DTSTART"), "2011-06-07T18:00:00Z", "IANA zone, summer time");
    assert_eq!(text("DTEND"), "2011-06-08T00:00:00Z", "the resource's VTIMEZONE");
    assert_eq!(text("RECURRENCE-ID"), "2011-01-01T10:00:00Z", "floating time read as UTC");
    assert_eq!(text("EXDATE"), "2011-06-07,2011-06-08");
    assert_eq!(text("DUE"), "2011-12-31");
    let (back, _) = calendar_from_xml(&item, ItemKind::Events, None).expect("stores");
    assert!(back.contains("EXDATE;VALUE=DATE:20110607,20110608\r\n"), "{back}");
    assert!(back.contains("DTSTART:20110607T180000Z\r\n"), "{back}");
    assert!(!back.contains("VTIMEZONE"), "{back}");
}

#[test]
fn parameters_and_escapes() {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:p\r\n\
ATTENDEE;CN=\"Smith, John\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;LANGUAGE=en:mailto:j@example.com\r\n\
SUMMARY;LANGUAGE=de:a\\, b\\; c\\nd \\\\ e\r\nCATEGORIES:one,two\\,three\r\nX-THING;X-PARAM=Mixed Case:v\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let item = render_calendar(ics, ItemKind::Events).expect("renders").item;
    let attendee = item.child("ATTENDEE").expect("attendee");
    assert_eq!(
        attendee.attributes,
        [
            ("CN".to_owned(), "Smith, John".to_owned()),
            ("ROLE".into(), "req-participant".into()),
            ("PARTSTAT".into(), "needs-action".into()),
            ("RSVP".into(), "true".into())
        ]
    );
    assert_eq!(item.child("SUMMARY").expect("summary").content, Content::Text("a\\, b\\; c\nd \\\\ e".into()));
    assert!(item.child("SUMMARY").expect("summary").attributes.is_empty(), "LANGUAGE is dropped");
    assert_eq!(item.child("CATEGORIES").expect("c").content, Content::Text("one,two\\,three".into()));
    assert_eq!(item.child("X-THING").expect("x").attributes, [("X-PARAM".to_owned(), "Mixed Case".to_owned())]);
    let (back, _) = calendar_from_xml(&item, ItemKind::Events, None).expect("stores");
    let back = back.replace("\r\n ", "");
    assert!(back.contains("ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"), "{back}");
    assert!(back.contains("SUMMARY:a\\, b\\; c\\nd \\\\ e\r\n"), "{back}");
    assert_eq!(render_calendar(&back, ItemKind::Events).expect("renders").item, item);
}

#[test]
fn parameter_line_breaks_and_quotes_survive_a_store() {
    // Apple's structured location writes `\n` inside a quoted parameter; RFC 6868 `^n`, `^'`.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:p\r\nDTSTAMP:20110531T121000Z\r\n\
DTSTART:20110531T121000Z\r\nX-LOC;X-ADDRESS=\"Street 16\\n12764 Town\";X-NOTE=say ^'hi^' ^^:geo:1,2\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let item = render_calendar(ics, ItemKind::Events).expect("renders").item;
    let (back, _) = calendar_from_xml(&item, ItemKind::Events, None).expect("stores");
    assert_eq!(render_calendar(&back, ItemKind::Events).expect("renders again").item, item, "{back}");
}

/// Empty parameter values (ical.net JOURNAL3 `SENT-BY=`, python-icalendar x_location
/// `X-TITLE=`) go back with their `=`: Cyrus refuses a bare parameter name ("Can't parse
/// parameter name"), and RFC 5545 3.1 has none.
#[test]
fn an_empty_parameter_value_goes_back_with_its_equals_sign() {
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VJOURNAL\r\nUID:j\r\nDTSTAMP:20110531T121000Z\r\n\
ORGANIZER;SENT-BY=;CN=JohnSmith:mailto:jsmith@host.com\r\nX-LOC;X-TITLE=:geo:52.3,7.5\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n";
    let item = render_calendar(ics, ItemKind::Journals).expect("renders").item;
    let (back, _) = calendar_from_xml(&item, ItemKind::Journals, None).expect("stores");
    assert!(!back.contains("SENT-BY;") && !back.contains("X-TITLE:"), "{back}");
    assert_eq!(render_calendar(&back, ItemKind::Journals).expect("renders again").item, item, "{back}");
}

#[test]
fn tags_are_set_replaced_and_removed_keeping_every_other_byte() {
    // LF line ends, a folded line and odd spacing: none of it may change.
    let ics = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:t\nSUMMARY:a long\n  folded line\n\
BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT5M\nDESCRIPTION:x\nEND:VALARM\nEND:VEVENT\nBEGIN:VEVENT\nUID:t\n\
RECURRENCE-ID:20110101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    let tagged = set_calendar_tags(ics, ItemKind::Events, &["SEEN".into(), "FLAG=Red, x".into()]).expect("tags");
    assert_eq!(tagged, ics.replace("  folded line\n", "  folded line\nX-AGAP-TAGS:SEEN\nX-AGAP-TAGS:FLAG=Red\\, x\n"));
    let view = render_calendar(&tagged, ItemKind::Events).expect("renders");
    assert_eq!(view.tags, ["SEEN", "FLAG=Red, x"]);
    assert!(view.item.child(TAGS_PROPERTY).is_none());
    let replaced = set_calendar_tags(&tagged, ItemKind::Events, &["A".into()]).expect("tags");
    assert_eq!(replaced, ics.replace("  folded line\n", "  folded line\nX-AGAP-TAGS:A\n"));
    assert_eq!(set_calendar_tags(&replaced, ItemKind::Events, &[]).expect("tags"), ics);
    // STOR keeps the stored tags and ignores tags in the XML.
    let mut item = view.item.clone();
    if let Content::Children(children) = &mut item.content {
        children.push(Element::text(TAGS_PROPERTY, "EVIL"));
    }
    let (stored, _) = calendar_from_xml(&item, ItemKind::Events, Some(&tagged)).expect("stores");
    let again = render_calendar(&stored, ItemKind::Events).expect("renders");
    assert_eq!(again.tags, ["SEEN", "FLAG=Red, x"]);
    assert!(stored.contains("RECURRENCE-ID:20110101T000000Z"), "the override is kept: {stored}");
    assert!(again.alarm.is_some(), "the alarm named by <VALARM> is kept");
    // Without the <VALARM> link the alarm goes.
    if let Content::Children(children) = &mut item.content {
        children.retain(|child| child.name != "VALARM");
    }
    let (stored, _) = calendar_from_xml(&item, ItemKind::Events, Some(&tagged)).expect("stores");
    assert!(render_calendar(&stored, ItemKind::Events).expect("renders").alarm.is_none());
}

#[test]
fn an_item_without_uid_gets_one() {
    let item = Element::parent("VTODO", vec![Element::text("SUMMARY", "x")]);
    let (ics, uid) = calendar_from_xml(&item, ItemKind::Tasks, None).expect("stores");
    assert_eq!(render_calendar(&ics, ItemKind::Tasks).expect("renders").uid, uid);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.contains("PRODID:"));
}

#[test]
fn a_copy_with_a_fresh_uid_keeps_everything_else() {
    let recurring = FIG_2_4.replace(
        "END:VCALENDAR\r\n",
        "BEGIN:VEVENT\r\nUID:20110531T114600Z-123456@agap.at\r\nRECURRENCE-ID:20110614T180000Z\r\n\
         DTSTAMP:20110531T121000Z\r\nDTSTART:20110614T190000Z\r\nSUMMARY:Later\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:unrelated\r\nDTSTAMP:20110531T121000Z\r\nDTSTART:20110614T190000Z\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let tagged = set_calendar_tags(&recurring, ItemKind::Events, &["SEEN".into()]).expect("tags");
    let (copy, uid) = with_fresh_uid(&tagged, ItemKind::Events).expect("a copy");
    assert_ne!(uid, "20110531T114600Z-123456@agap.at");
    assert!(!copy.contains("UID:20110531T114600Z-123456@agap.at\r\n"), "the override follows: {copy}");
    assert_eq!(copy.matches(&format!("UID:{uid}\r\n")).count(), 2, "{copy}");
    assert!(copy.contains("UID:unrelated\r\n"), "{copy}");
    let original = render_calendar(&tagged, ItemKind::Events).expect("renders");
    let view = render_calendar(&copy, ItemKind::Events).expect("renders");
    assert_eq!(view.uid, uid);
    assert_eq!(view.tags, ["SEEN"]);
    assert_eq!(without(&view.item, "UID"), without(&original.item, "UID"));
    let alarm = view.alarm.expect("the alarm comes along");
    assert_eq!(alarm.uid, original.alarm.expect("alarm").uid, "the alarm keeps its own UID property");
}

/// The kind of a corpus file: its first VEVENT, VTODO or VJOURNAL.
fn corpus_kind(text: &str) -> Option<ItemKind> {
    let upper = text.to_ascii_uppercase();
    [("BEGIN:VEVENT", ItemKind::Events), ("BEGIN:VTODO", ItemKind::Tasks), ("BEGIN:VJOURNAL", ItemKind::Journals)]
        .into_iter()
        .filter_map(|(marker, kind)| upper.find(marker).map(|at| (at, kind)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, kind)| kind)
}

fn without(element: &Element, name: &str) -> Element {
    let mut element = element.clone();
    if let Content::Children(children) = &mut element.content {
        children.retain(|child| child.name != name);
    }
    element
}

pub(super) fn round_trip(text: &str) -> RoundTrip {
    let Some(kind) = corpus_kind(text) else { return RoundTrip::NoItem };
    let first = match render_calendar(text, kind) {
        Ok(view) => view,
        Err(e) => return RoundTrip::Failed(format!("does not render: {e}")),
    };
    let wire = on_the_wire(&first.item);
    let (ics, _) = match calendar_from_xml(&wire, kind, None) {
        Ok(stored) => stored,
        Err(e) => return RoundTrip::Failed(format!("does not store: {e}")),
    };
    let second = match render_calendar(&ics, kind) {
        Ok(view) => view,
        Err(e) => return RoundTrip::Failed(format!("stored text does not render: {e}")),
    };
    // ROUND-TRIP: a UID the gateway had to add. The alarm is a separate item (attach_alarm);
    // until it comes, the item keeps its <VALARM> link (ALARM-LINK-7.11).
    let mut second_item = second.item;
    if first.item.child("UID").is_none() {
        second_item = without(&second_item, "UID");
    }
    let first_item = first.item.clone();
    if on_the_wire(&first_item) != on_the_wire(&second_item) {
        return RoundTrip::Failed(format!("item differs:\n{:?}\n{:?}", first_item, second_item));
    }
    if let Some(alarm) = first.alarm {
        let with_alarm = match attach_alarm(&ics, kind, &on_the_wire(&alarm.element)) {
            Ok(text) => text,
            Err(e) => return RoundTrip::Failed(format!("alarm does not attach: {e}")),
        };
        let third = match render_calendar(&with_alarm, kind) {
            Ok(view) => view,
            Err(e) => return RoundTrip::Failed(format!("with alarm does not render: {e}")),
        };
        let mut third_item = third.item;
        if first.item.child("UID").is_none() {
            third_item = without(&third_item, "UID");
        }
        if on_the_wire(&first_item) != on_the_wire(&third_item) {
            return RoundTrip::Failed(format!("item with alarm differs:\n{:?}\n{:?}", first_item, third_item));
        }
        let second_alarm = third.alarm.map(|alarm| alarm.element);
        if second_alarm.as_ref().map(on_the_wire) != Some(on_the_wire(&alarm.element)) {
            return RoundTrip::Failed(format!("alarm differs:\n{:?}\n{:?}", alarm.element, second_alarm));
        }
    }
    RoundTrip::Identical
}

#[test]
fn has_alarm_agrees_with_the_rendering_on_every_corpus_file() {
    let files = crate::format::corpus::corpus_files("ical");
    let mut with_alarm = 0;
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
        for kind in [ItemKind::Events, ItemKind::Tasks, ItemKind::Journals] {
            let rendered = render_calendar(&text, kind).is_ok_and(|view| view.alarm.is_some());
            assert_eq!(has_alarm(&text, kind), rendered, "{} as {kind:?}", file.display());
            with_alarm += usize::from(rendered);
        }
    }
    assert!(with_alarm >= 10, "the corpus has alarms to find ({with_alarm})");
    assert!(has_alarm(FIG_2_4, ItemKind::Events));
}

#[test]
fn corpus_round_trip() {
    check_round_trips("ical", "ical", round_trip);
}
