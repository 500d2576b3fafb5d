//! GETMETADATA answers for a CONF folder kept as annotations (src/items/configuration/layout.rs),
//! as a hostile server could send them: one `entry<TAB>value` per line. Checks: no panic; every
//! item listed has an id and tags that read back; every item read, written anew the way STOR
//! writes it, reads back to the same keys, values and tags.
#![no_main]

use agap_adapter_api::mail::Annotation;
use agap_gateway::items::configuration::layout::{
    listed_items, new_item_changes, parse_tags_value, read_item, tags_value,
};
use libfuzzer_sys::fuzz_target;

const FOLDER: &str = "configuration";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let found: Vec<Annotation> = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(entry, value)| Annotation { entry: entry.to_owned(), value: value.to_owned() })
        .collect();
    for annotation in &found {
        let _ = parse_tags_value(&annotation.value);
    }
    for item in listed_items(FOLDER, &found) {
        assert_eq!(parse_tags_value(&tags_value(&item.tags)).as_ref(), Some(&item.tags));
        let Some(read) = read_item(FOLDER, &item.id, &found) else { continue };
        let changes = new_item_changes(FOLDER, &item.id, &read.entries, &read.tags).expect("what was read is written");
        let written: Vec<Annotation> = changes
            .into_iter()
            .map(|(entry, value)| Annotation { entry, value: value.expect("a value") })
            .collect();
        let again = read_item(FOLDER, &item.id, &written).expect("reads back");
        assert_eq!(again.entries, read.entries);
        assert_eq!(again.tags, read.tags);
    }
});
