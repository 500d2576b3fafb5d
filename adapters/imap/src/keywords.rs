//! AGAP tags as IMAP flags and keywords, so that every legal tag round-trips exactly and stays
//! readable to other mail clients.
//!
//! - SEEN, ANSWERED, FLAGGED and DRAFT are the system flags `\Seen`, `\Answered`, `\Flagged`,
//!   `\Draft`; SPAM is `$Junk` (the keyword mail clients use for junk).
//! - Any other tag without a value is the keyword of its name (`WORK`).
//! - `NAME=value` is the keyword `NAME=value` with each upper-case letter of the value written
//!   as `^` and its lower-case form: IMAP keywords are case-insensitive (RFC 3501 2.3.2), AGAP
//!   values are not, so `FLAG=Red` is `FLAG=^red` and `FLAG=red` stays `FLAG=red`.
//! - Servers cap keyword length (Dovecot at 50 characters); a longer encoding is split into
//!   pieces `~<id><n>~<piece>`, where `<id>` is a hash prefix of the whole encoding that binds
//!   the pieces together.
//! - Keywords that are no AGAP tag (`$Forwarded`, `$label1`) are neither shown nor touched.

use agap_adapter_api::tags::Tag;
use sha2::{Digest, Sha256};

/// The longest keyword written in one piece.
pub const MAX_KEYWORD: usize = 50;
const PIECE_MARK: char = '~';
const ID_LENGTH: usize = 6;

const SYSTEM: [(&str, &str); 5] =
    [("SEEN", "\\Seen"), ("ANSWERED", "\\Answered"), ("FLAGGED", "\\Flagged"), ("DRAFT", "\\Draft"), ("SPAM", "$Junk")];

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        if c.is_ascii_uppercase() {
            out.push('^');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape(encoded: &str) -> Option<String> {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        if c == '^' {
            out.push(chars.next().filter(char::is_ascii_alphabetic)?.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    Some(out)
}

fn piece_id(body: &str) -> String {
    Sha256::digest(body.as_bytes()).iter().take(ID_LENGTH / 2).map(|b| format!("{b:02x}")).collect()
}

/// The flags that stand for `tag`.
pub fn flags_for(tag: &Tag) -> Vec<String> {
    if tag.value().is_none() {
        if let Some((_, flag)) = SYSTEM.iter().find(|(name, _)| *name == tag.name()) {
            return vec![(*flag).to_owned()];
        }
        return vec![tag.name().to_owned()];
    }
    let body = format!("{}={}", tag.name(), escape(tag.value().unwrap_or_default()));
    if body.len() <= MAX_KEYWORD {
        return vec![body];
    }
    let id = piece_id(&body);
    let room = MAX_KEYWORD - (ID_LENGTH + 3);
    body.as_bytes()
        .chunks(room)
        .enumerate()
        .map(|(index, piece)| format!("{PIECE_MARK}{id}{index}{PIECE_MARK}{}", String::from_utf8_lossy(piece)))
        .collect()
}

fn decode_single(keyword: &str) -> Option<Tag> {
    if let Some((name, _)) = SYSTEM.iter().find(|(_, flag)| flag.eq_ignore_ascii_case(keyword)) {
        return Tag::new(name, None).ok();
    }
    match keyword.split_once('=') {
        Some((name, value)) => Tag::new(name, Some(&unescape(value)?)).ok(),
        None => Tag::new(keyword, None).ok(),
    }
}

/// The tags that `flags` stand for, each with the flags that carry it (to remove it exactly as
/// the server spells it).
pub fn tags_of(flags: &[String]) -> Vec<(Tag, Vec<String>)> {
    let mut found: Vec<(Tag, Vec<String>)> = Vec::new();
    let mut add = |tag: Tag, carriers: Vec<String>| match found.iter_mut().find(|(known, _)| *known == tag) {
        Some((_, known)) => known.extend(carriers),
        None => found.push((tag, carriers)),
    };
    let mut pieces: Vec<(String, usize, &str, &String)> = Vec::new();
    for flag in flags {
        if let Some(rest) = flag.strip_prefix(PIECE_MARK) {
            let parsed = rest.split_once(PIECE_MARK).and_then(|(head, piece)| {
                let (id, index) = head.split_at_checked(ID_LENGTH)?;
                Some((id.to_ascii_lowercase(), index.parse::<usize>().ok()?, piece))
            });
            if let Some((id, index, piece)) = parsed {
                pieces.push((id, index, piece, flag));
            }
            continue;
        }
        if let Some(tag) = decode_single(flag) {
            add(tag, vec![flag.clone()]);
        }
    }
    pieces.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut start = 0;
    while start < pieces.len() {
        let id = pieces[start].0.clone();
        let end = start + pieces[start..].iter().take_while(|piece| piece.0 == id).count();
        let group = &pieces[start..end];
        let complete = group.iter().enumerate().all(|(expected, piece)| piece.1 == expected);
        if complete {
            let joined: String = group.iter().map(|piece| piece.2).collect();
            // Servers may change the case of a keyword; the name is upper case, the escaped value lower.
            let canonical = match joined.split_once('=') {
                Some((name, value)) => format!("{}={}", name.to_ascii_uppercase(), value.to_ascii_lowercase()),
                None => joined.clone(),
            };
            if piece_id(&canonical) == id
                && let Some(tag) = decode_single(&canonical)
            {
                add(tag, group.iter().map(|piece| piece.3.clone()).collect());
            }
        }
        start = end;
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str) -> Tag {
        Tag::parse(text).expect("valid tag")
    }

    fn round_trip(text: &str) -> Vec<Tag> {
        tags_of(&flags_for(&tag(text))).into_iter().map(|(tag, _)| tag).collect()
    }

    #[test]
    fn system_tags_use_system_flags() {
        assert_eq!(flags_for(&tag("seen")), ["\\Seen"]);
        assert_eq!(flags_for(&tag("SPAM")), ["$Junk"]);
        assert_eq!(tags_of(&["\\SEEN".to_owned(), "$junk".to_owned()]).len(), 2);
        assert_eq!(flags_for(&tag("SEEN=yes")), ["SEEN=yes"], "with a value it is an ordinary tag");
    }

    #[test]
    fn values_keep_their_case_through_case_insensitive_keywords() {
        assert_eq!(flags_for(&tag("FLAG=Red")), ["FLAG=^red"]);
        assert_eq!(flags_for(&tag("FLAG=red")), ["FLAG=red"]);
        assert_eq!(round_trip("FLAG=Red"), [tag("FLAG=Red")]);
        // A server returning the keyword in another case changes nothing.
        assert_eq!(tags_of(&["flag=^RED".to_owned()])[0].0, tag("FLAG=Red"));
        assert_eq!(round_trip("FLAG="), [tag("FLAG=")]);
        assert_eq!(round_trip("MY-TAG=a-B_c.D"), [tag("MY-TAG=a-B_c.D")]);
    }

    #[test]
    fn the_longest_tags_are_split_and_rejoined() {
        let longest = format!("{}={}", "N".repeat(32), "V".repeat(32));
        let flags = flags_for(&tag(&longest));
        assert!(flags.len() > 1 && flags.iter().all(|flag| flag.len() <= MAX_KEYWORD), "{flags:?}");
        assert_eq!(round_trip(&longest), [tag(&longest)]);
        let mut shuffled = flags.clone();
        shuffled.reverse();
        shuffled.push("$Forwarded".into());
        let decoded = tags_of(&shuffled);
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].1.len(), flags.len(), "every piece carries the tag");
        assert!(tags_of(&flags[1..]).is_empty(), "an incomplete group is no tag");
    }

    #[test]
    fn foreign_keywords_are_ignored_or_read_as_tags() {
        let flags: Vec<String> =
            ["$Forwarded", "$label1", "NonJunk", "\\Recent", "\\Deleted", "a=b c"].map(String::from).to_vec();
        let tags: Vec<String> = tags_of(&flags).into_iter().map(|(tag, _)| tag.to_string()).collect();
        assert_eq!(tags, ["NONJUNK"]);
    }

    #[test]
    fn every_encoding_is_a_valid_imap_atom() {
        for text in ["A", "FLAG=Red", "X=", &format!("{}={}", "Z".repeat(32), "a.B-c_".repeat(5))] {
            for flag in flags_for(&tag(text)) {
                assert!(
                    flag.chars().all(|c| c.is_ascii_graphic() && !"(){%*\"]".contains(c))
                        && (flag.starts_with('\\') || !flag.contains('\\')),
                    "{flag}"
                );
            }
        }
    }
}
