//! VEVENT, VTODO, VJOURNAL and VALARM XML to iCalendar (STOR into CALE, TASK and JRNL
//! folders): `parse_xml`, `read_calendar_input` for a folder kind picked by the first byte,
//! then `calendar_from_xml` (with or without a previous version of the item) or, for an alarm,
//! `alarm_parent_uid` and `attach_alarm` to a fixed parent. Checks: no panic.
#![no_main]

use agap_adapter_api::collection::ItemKind;
use agap_gateway::format::icalendar::{
    CalendarInput, alarm_parent_uid, attach_alarm, calendar_from_xml, read_calendar_input, render_calendar,
};
use agap_gateway::format::xml_reader::parse_xml;
use libfuzzer_sys::fuzz_target;

const KINDS: [(ItemKind, &str); 3] =
    [(ItemKind::Events, "VEVENT"), (ItemKind::Tasks, "VTODO"), (ItemKind::Journals, "VJOURNAL")];

fn previous(component: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\nBEGIN:{component}\r\nUID:parent-1\r\n\
         DTSTAMP:20240101T000000Z\r\nDTSTART:20240102T100000Z\r\nSUMMARY:Parent\r\n\
         X-AGAP-TAGS:SEEN\r\nEND:{component}\r\nEND:VCALENDAR\r\n"
    )
}

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(tree) = parse_xml(text) else { return };
    let (kind, component) = KINDS[usize::from(*pick & 3) % KINDS.len()];
    let with_previous = *pick & 4 != 0;
    let parent = previous(component);
    match read_calendar_input(tree, kind) {
        Ok(CalendarInput::Item(item)) => {
            if let Ok((ics, _uid)) = calendar_from_xml(&item, kind, with_previous.then_some(parent.as_str())) {
                // What the gateway stores it must be able to show again.
                let _ = render_calendar(&ics, kind);
            }
        }
        Ok(CalendarInput::Alarm(alarm)) => {
            let _ = alarm_parent_uid(&alarm);
            if let Ok(ics) = attach_alarm(&parent, kind, &alarm) {
                let _ = render_calendar(&ics, kind);
            }
        }
        Err(_) => {}
    }
});
