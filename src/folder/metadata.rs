//! CONF folders whose items are private server annotations of the mail account (RFC 5464
//! METADATA) rather than messages of a mailbox (docs/configuration.md; docs/interpretations.md,
//! CONF-UPSTREAM). Such a folder has no mailbox: it is a record
//! `/private/vendor/agap-gateway/conf-folder/<levels>` (laid out like the other folder records)
//! whose value is the folder's id, under which its items live. The id, not the path, names the
//! items, so that NAME moves one record and no item.

use super::FolderPath;

/// The id of the reserved /CONFIGURATION kept as annotations: a fixed word, which no id
/// [`new_folder_id`] hands out can equal (those are hex digits only).
pub const RESERVED_FOLDER_ID: &str = "configuration";

/// The length of an id [`new_folder_id`] hands out.
const FOLDER_ID_LEN: usize = 16;

/// The items of a CONF folder kept as annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataFolder {
    /// The folder's id: [`RESERVED_FOLDER_ID`], or 16 lower-case hex digits.
    pub id: String,
}

impl MetadataFolder {
    /// The key under which the store keeps its UID map and change counters.
    pub fn store_key(&self) -> String {
        format!("conf:{}", self.id)
    }
}

/// A CONF folder record found upstream: the upstream key it was made under (the path its
/// mailbox would have had) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataFolderInfo {
    /// The key, levels joined by `/`, as for mailboxes.
    pub key: String,
    /// The folder's id.
    pub id: String,
}

/// A fresh folder id: random, never one that was handed out before in practice (64 bits).
pub fn new_folder_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Whether `id` is a folder id the gateway writes (in any case: servers may fold entry names).
pub fn is_folder_id(id: &str) -> bool {
    id.eq_ignore_ascii_case(RESERVED_FOLDER_ID)
        || (id.len() == FOLDER_ID_LEN && id.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// The path of the reserved /CONFIGURATION.
pub fn configuration_path() -> FolderPath {
    FolderPath::root().child("CONFIGURATION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_ids_are_hex_or_the_reserved_word() {
        let id = new_folder_id();
        assert!(is_folder_id(&id) && is_folder_id(&id.to_ascii_uppercase()), "{id}");
        assert_ne!(new_folder_id(), id);
        assert!(is_folder_id(RESERVED_FOLDER_ID));
        for bad in ["", "abc", "0123456789abcdeg", "0123456789abcdef0", "../x", "configuration/x"] {
            assert!(!is_folder_id(bad), "{bad}");
        }
    }
}
