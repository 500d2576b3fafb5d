//! Folder tags from the user's IMAP rights (RFC 4314 MYRIGHTS), so that shared and read-only
//! mailboxes carry the tags of draft 2.10.2 and commands are refused with AGAP codes before the
//! server refuses them.
//!
//! READ-ONLY: no `i` (nothing can be stored, copied or moved in). NO-DELETE and NO-MOVE: no `t`
//! or no `e` (messages cannot be deleted, so not moved out either). NO-DELF and NO-RENAME: no
//! `x`. NO-FOLDERS: no `k`. The obsolete RFC 2086 rights count as their RFC 4314 successors
//! (`c` as `k`, `d` as `x`, `t` and `e`) only for servers that send none of the new ones:
//! RFC 4314 servers such as Dovecot also report `c` and `d` when only part of what they used to
//! cover is granted. There is no IMAP right behind NO-COPY.

/// The tags `rights` imply, in a fixed order.
pub fn tags_from_rights(rights: &str) -> Vec<&'static str> {
    let has = |letter: char| rights.contains(letter);
    let obsolete_only = !['k', 'x', 't', 'e'].into_iter().any(has);
    let (create, delete) = (obsolete_only && has('c'), obsolete_only && has('d'));
    let mut tags = Vec::new();
    if !has('i') {
        tags.push("READ-ONLY");
    }
    if !(delete || (has('t') && has('e'))) {
        tags.extend(["NO-DELETE", "NO-MOVE"]);
    }
    if !(has('x') || delete) {
        tags.extend(["NO-DELF", "NO-RENAME"]);
    }
    if !(has('k') || create) {
        tags.push("NO-FOLDERS");
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_rights_give_no_tag_and_read_rights_give_all() {
        assert!(tags_from_rights("lrwstipekxacd").is_empty());
        assert_eq!(
            tags_from_rights("lra"),
            ["READ-ONLY", "NO-DELETE", "NO-MOVE", "NO-DELF", "NO-RENAME", "NO-FOLDERS"]
        );
    }

    #[test]
    fn each_missing_right_gives_its_tags() {
        assert_eq!(tags_from_rights("lrswpkxte"), ["READ-ONLY"]);
        assert_eq!(tags_from_rights("lrswipkxt"), ["NO-DELETE", "NO-MOVE"]);
        assert_eq!(tags_from_rights("lrswipkte"), ["NO-DELF", "NO-RENAME"]);
        assert_eq!(tags_from_rights("lrswipxte"), ["NO-FOLDERS"]);
        assert!(tags_from_rights("lrswipcd").is_empty(), "RFC 2086 rights");
        assert_eq!(
            tags_from_rights("lrwstiekacd"),
            ["NO-DELF", "NO-RENAME"],
            "Dovecot adds c and d to RFC 4314 rights"
        );
    }
}
