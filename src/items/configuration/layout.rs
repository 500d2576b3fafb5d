//! Where the items of a CONF folder kept as annotations live (docs/configuration.md;
//! docs/interpretations.md, CONF-UPSTREAM), and how what the server answers is read back. Pure:
//! no I/O.
//!
//! - `/private/vendor/agap-gateway/conf/<folder-id>/<item-id>`: the item itself; its value is
//!   `tags=` and the item's tags separated by spaces (so never empty: an item with no keys and no
//!   tags still exists);
//! - `.../<item-id>/<key>`: one per key, named per CONF-KEYS, valued per CONF-VALUES.
//!
//! The tags sit one level above the keys, so no key can ever be taken for them (nor they for a
//! key), and a folder's items and tags are one DEPTH 1 read that carries no key.

use agap_adapter_api::mail::{Annotation, AnnotationLimits};
use agap_adapter_api::tags::Tag;

use crate::format::configuration::{MAX_ENTRIES, MAX_STORED, entry_name, entry_value, name_of_entry, value_of_entry};

/// Root of the items of every CONF folder kept as annotations.
pub const ITEMS_ROOT: &str = "/private/vendor/agap-gateway/conf";

/// The most items one such folder holds: STOR past it is 511, and a folder listing carrying
/// more fails (the server is not trusted with the gateway's memory).
pub const MAX_ITEMS: usize = 1000;

/// The longest tags value (`tags=` and the tags): STAG past it is 511.
pub const MAX_TAGS_VALUE: usize = 4096;

/// Item ids: 12 hex digits of the creation time in milliseconds, then 8 random ones, so that
/// ids sort in the order items were made (a gateway with an empty store hands out UIDs in that
/// order) and two gateways never make the same one in practice.
const ITEM_ID_LEN: usize = 20;

const TAGS_PREFIX: &str = "tags=";

/// What one folder listing may make the gateway hold.
pub const LISTING_LIMITS: AnnotationLimits = AnnotationLimits { max_value: MAX_TAGS_VALUE, max_entries: MAX_ITEMS };

/// What one item read may make the gateway hold: its tags and at most [`MAX_ENTRIES`] keys,
/// none larger than a whole configuration may be.
pub const ITEM_LIMITS: AnnotationLimits = AnnotationLimits { max_value: MAX_STORED, max_entries: MAX_ENTRIES + 1 };

/// The entry of folder `folder_id`, whose children are its items.
pub fn folder_entry(folder_id: &str) -> String {
    format!("{ITEMS_ROOT}/{folder_id}")
}

/// The entry of one item (its tags).
pub fn item_entry(folder_id: &str, item_id: &str) -> String {
    format!("{ITEMS_ROOT}/{folder_id}/{item_id}")
}

/// A fresh item id for an item made at `now_ms`.
pub fn new_item_id(now_ms: u64) -> String {
    format!("{:012x}{:08x}", now_ms & 0xffff_ffff_ffff, rand::random::<u32>())
}

fn is_item_id(id: &str) -> bool {
    id.len() == ITEM_ID_LEN && id.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The value that keeps `tags`.
pub fn tags_value(tags: &[Tag]) -> String {
    let words: Vec<String> = tags.iter().map(ToString::to_string).collect();
    format!("{TAGS_PREFIX}{}", words.join(" "))
}

/// The tags a tags value keeps, sorted; `None` for a value the gateway does not write. Words
/// that are no tags are left out.
pub fn parse_tags_value(value: &str) -> Option<Vec<Tag>> {
    let words = value.strip_prefix(TAGS_PREFIX)?;
    let mut tags: Vec<Tag> =
        words.split(' ').filter(|word| !word.is_empty()).filter_map(|w| Tag::parse(w).ok()).collect();
    tags.sort_by_key(ToString::to_string);
    tags.dedup();
    Some(tags)
}

/// The changes that write a new item: its tags and every key, for one SETMETADATA. 511 (from
/// [`entry_name`]) for a key that is no key.
pub fn new_item_changes(
    folder_id: &str,
    item_id: &str,
    entries: &[(String, String)],
    tags: &[Tag],
) -> crate::error::AgapResult<Vec<(String, Option<String>)>> {
    let item = item_entry(folder_id, item_id);
    let mut changes = Vec::with_capacity(entries.len() + 1);
    changes.push((item.clone(), Some(tags_value(tags))));
    for (name, value) in entries {
        changes.push((format!("{item}/{}", entry_name(name)?), Some(entry_value(value))));
    }
    Ok(changes)
}

/// The last component of `entry` when it lies directly below `parent` (any case).
fn child_of<'a>(entry: &'a str, parent: &str) -> Option<&'a str> {
    let head = entry.get(..parent.len()).filter(|head| head.eq_ignore_ascii_case(parent))?;
    let rest = entry[head.len()..].strip_prefix('/')?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// One item of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedItem {
    /// Its id, in lower case.
    pub id: String,
    /// Its tags, sorted.
    pub tags: Vec<Tag>,
}

/// The items a listing of folder `folder_id` (a DEPTH 1 read of [`folder_entry`]) holds, in
/// the order they were made. Entries that are not items the gateway writes are left out.
pub fn listed_items(folder_id: &str, found: &[Annotation]) -> Vec<ListedItem> {
    let folder = folder_entry(folder_id);
    let mut items: Vec<ListedItem> = found
        .iter()
        .filter_map(|annotation| {
            let id = child_of(&annotation.entry, &folder).filter(|id| is_item_id(id))?;
            let tags = parse_tags_value(&annotation.value)?;
            Some(ListedItem { id: id.to_ascii_lowercase(), tags })
        })
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.dedup_by(|a, b| a.id == b.id);
    items
}

/// One item as read (a DEPTH 1 read of [`item_entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadItem {
    /// Its tags, sorted.
    pub tags: Vec<Tag>,
    /// Its keys and values, in the order of their entry names.
    pub entries: Vec<(String, String)>,
    /// Every entry name the item has upstream (to remove it), readable or not.
    pub entry_names: Vec<String>,
}

/// The item a read of item `item_id` found; `None` when it has no tags entry (no such item).
/// Keys or values the gateway does not write are left out of `entries` (logged).
pub fn read_item(folder_id: &str, item_id: &str, found: &[Annotation]) -> Option<ReadItem> {
    let item = item_entry(folder_id, item_id);
    let tags = found
        .iter()
        .find(|annotation| annotation.entry.eq_ignore_ascii_case(&item))
        .and_then(|annotation| parse_tags_value(&annotation.value))?;
    let mut keyed: Vec<(String, String, String)> = Vec::new();
    let mut entry_names = vec![item.clone()];
    for annotation in found {
        let Some(component) = child_of(&annotation.entry, &item) else { continue };
        entry_names.push(annotation.entry.clone());
        match (name_of_entry(component), value_of_entry(&annotation.value)) {
            (Some(name), Some(value)) => keyed.push((component.to_ascii_lowercase(), name, value)),
            _ => tracing::warn!(entry = %annotation.entry, "a configuration entry the gateway did not write; left out"),
        }
    }
    keyed.sort();
    keyed.dedup_by(|a, b| a.0 == b.0);
    Some(ReadItem { tags, entries: keyed.into_iter().map(|(_, name, value)| (name, value)).collect(), entry_names })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(list: &[(&str, &str)]) -> Vec<Annotation> {
        list.iter()
            .map(|(entry, value)| Annotation { entry: (*entry).to_owned(), value: (*value).to_owned() })
            .collect()
    }

    #[test]
    fn items_are_listed_in_the_order_they_were_made_and_junk_is_left_out() {
        let first = new_item_id(1_000);
        let second = new_item_id(2_000);
        assert!(first < second && is_item_id(&first), "{first} {second}");
        let folder = folder_entry("0123456789abcdef");
        let listing = found(&[
            (&format!("{folder}/{second}"), "tags=SEEN"),
            (&format!("{}/{}", folder.to_ascii_uppercase(), first.to_ascii_uppercase()), "tags="),
            (&format!("{folder}/not-an-id"), "tags="),
            (&format!("{folder}/{}", new_item_id(3_000)), "garbage"),
            (&format!("{folder}/{first}/quota"), "1"),
            (&format!("{folder}x/{first}"), "tags="),
        ]);
        let items = listed_items("0123456789abcdef", &listing);
        assert_eq!(items.iter().map(|item| item.id.as_str()).collect::<Vec<_>>(), [first.as_str(), second.as_str()]);
        assert_eq!(items[1].tags.iter().map(ToString::to_string).collect::<Vec<_>>(), ["SEEN"]);
    }

    #[test]
    fn an_item_reads_back_as_written_in_entry_name_order() {
        let entries =
            vec![("QUOTA".to_owned(), "1024".to_owned()), ("CHECK-EACH-MIN".to_owned(), "a \"b\" 100%\n".to_owned())];
        let tags = vec![Tag::parse("ROAMING").expect("tag"), Tag::parse("FLAG=Red").expect("tag")];
        let id = new_item_id(5);
        let changes = new_item_changes("configuration", &id, &entries, &tags).expect("valid");
        assert_eq!(changes[0], (item_entry("configuration", &id), Some("tags=ROAMING FLAG=Red".to_owned())));
        let mut written: Vec<Annotation> = changes
            .iter()
            .map(|(entry, value)| Annotation { entry: entry.to_ascii_uppercase(), value: value.clone().expect("set") })
            .collect();
        written.push(Annotation { entry: format!("{}/_zz", item_entry("configuration", &id)), value: "x".into() });
        let read = read_item("configuration", &id, &written).expect("exists");
        assert_eq!(read.entries, [entries[1].clone(), entries[0].clone()]);
        assert_eq!(read.tags.iter().map(ToString::to_string).collect::<Vec<_>>(), ["FLAG=Red", "ROAMING"]);
        assert_eq!(read.entry_names.len(), 4, "the unreadable entry goes too when the item is deleted");
        assert_eq!(read_item("configuration", &new_item_id(6), &written), None);
        let bad = [("a:b".to_owned(), "1".to_owned())];
        assert_eq!(
            new_item_changes("configuration", &id, &bad, &[]).expect_err("no key").to_reply().code.number(),
            511
        );
    }

    #[test]
    fn the_largest_configuration_fits_one_setmetadata_line_of_64_kib() {
        // MAX_ENTRIES keys of the longest name, sharing MAX_STORED bytes with their values.
        let per_entry = MAX_STORED / MAX_ENTRIES;
        let entries: Vec<(String, String)> = (0..MAX_ENTRIES)
            .map(|n| {
                let name = format!("K{n:0>width$}", width = crate::format::configuration::MAX_KEY - 1);
                let value = "v".repeat(per_entry.saturating_sub(name.len()));
                (name, value)
            })
            .collect();
        let stored: usize = entries.iter().map(|(name, value)| name.len() + value.len()).sum();
        assert!(stored <= MAX_STORED);
        let changes = new_item_changes(&"f".repeat(16), &new_item_id(u64::MAX), &entries, &[]).expect("valid");
        // As the IMAP adapter writes it: SETMETADATA "" ("entry" "value" ...), CRLF.
        let line: usize = "A0001 SETMETADATA \"\" ()\r\n".len()
            + changes
                .iter()
                .map(|(entry, value)| entry.len() + value.as_ref().map_or(3, |v| v.len() + 2) + 4)
                .sum::<usize>();
        assert!(line < 64 * 1024, "{line}");
    }

    #[test]
    fn tags_values_are_never_empty_and_only_ours_read() {
        assert_eq!(tags_value(&[]), "tags=");
        assert_eq!(parse_tags_value("tags="), Some(vec![]));
        assert_eq!(parse_tags_value("tags= SEEN  SEEN %%").map(|tags| tags.len()), Some(1));
        assert_eq!(parse_tags_value("SEEN"), None);
    }
}
