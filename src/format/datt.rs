//! Removing one attachment from a message (draft 4.16).
//!
//! The part is cut out of the original bytes with its delimiter line, using mail-parser's
//! offsets, so that everything else stays byte for byte as it was. Where that cannot work (the
//! attachment is the whole body of a single-part message, or the only part of its multipart,
//! or its delimiter is not where the offsets say), the message is rebuilt from its rendering
//! without that attachment instead.

use mail_parser::{MimeHeaders, PartType};

use super::compose::{Defaults, compose_message};
use super::message::{body_layout, parse, render_message};
use super::tree::{Content, Element};

/// What a removal found.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// The new message.
    Removed(Vec<u8>),
    /// The message has fewer attachments (it has this many).
    NoSuchAttachment(usize),
    /// The bytes are no parseable message.
    Unparseable,
}

fn cut_part(raw: &[u8], number: usize) -> Option<Vec<u8>> {
    let message = parse(raw)?;
    let layout = body_layout(&message);
    let id = *layout.attachments.get(number - 1)?;
    let parent =
        message.parts.iter().find(|p| matches!(&p.body, PartType::Multipart(children) if children.contains(&id)))?;
    let PartType::Multipart(siblings) = &parent.body else { return None };
    if siblings.len() < 2 {
        return None;
    }
    let boundary = parent.content_type()?.attribute("boundary")?.to_owned();
    let part = message.parts.get(id as usize)?;
    let (start, end) = (part.offset_header as usize, part.offset_end as usize);
    if start > end || end > raw.len() {
        return None;
    }
    // The delimiter line ends right where the part's header starts.
    let head = &raw[..start];
    let head = head.strip_suffix(b"\r\n").or_else(|| head.strip_suffix(b"\n"))?;
    let line_start = head.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    let delimiter = String::from_utf8_lossy(&head[line_start..]);
    if delimiter.trim_end() != format!("--{boundary}") {
        return None;
    }
    // Take the line break before the delimiter too: it belongs to the delimiter (RFC 2046 5.1.1).
    let cut_start = match line_start {
        0 => 0,
        at if at >= 2 && raw[at - 2] == b'\r' => at - 2,
        at => at - 1,
    };
    let mut out = Vec::with_capacity(raw.len() - (end - cut_start));
    out.extend_from_slice(&raw[..cut_start]);
    out.extend_from_slice(&raw[end..]);
    Some(out)
}

fn rebuilt_without(raw: &[u8], number: usize, defaults: &Defaults) -> Option<Vec<u8>> {
    let tree = render_message(raw)?;
    let Content::Children(children) = tree.content else { return None };
    let mut kept = Vec::with_capacity(children.len());
    let mut seen = 0;
    for child in children {
        if child.name.starts_with("ATTACHMENT-") {
            seen += 1;
            if seen == number {
                continue;
            }
            kept.push(Element { name: format!("ATTACHMENT-{}", seen - usize::from(seen > number)), ..child });
        } else {
            kept.push(child);
        }
    }
    let has_body = kept.iter().any(|child| child.name != "HEADER");
    if !has_body {
        // The attachment was the whole body: its Content-* fields would describe nothing.
        for child in &mut kept {
            if let Content::Children(fields) = &mut child.content {
                fields.retain(|field| !field.name.to_ascii_lowercase().starts_with("content-"));
            }
        }
    }
    compose_message(Element::parent(tree.name, kept), defaults).ok()
}

fn attachment_count(raw: &[u8]) -> Option<usize> {
    parse(raw).map(|message| body_layout(&message).attachments.len())
}

/// Removes attachment `number` (from 1).
pub fn remove_attachment(raw: &[u8], number: usize, defaults: &Defaults) -> Removal {
    let Some(count) = attachment_count(raw) else { return Removal::Unparseable };
    if number == 0 || number > count {
        return Removal::NoSuchAttachment(count);
    }
    let cut = cut_part(raw, number).filter(|new| attachment_count(new) == Some(count - 1));
    match cut.or_else(|| rebuilt_without(raw, number, defaults)) {
        Some(new) => Removal::Removed(new),
        None => Removal::Unparseable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults { now: 1_700_000_000, host: "gateway.test".into(), unique: "u".into() }
    }

    const MESSAGE: &str = "Subject: three\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nbody\r\n\
        --b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\
        --b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAwQF\r\n--b--\r\n";

    #[test]
    fn a_middle_attachment_is_cut_out_and_the_rest_is_untouched() {
        let Removal::Removed(new) = remove_attachment(MESSAGE.as_bytes(), 1, &defaults()) else { panic!("removed") };
        let expected = MESSAGE
            .replace("\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC", "");
        assert_eq!(String::from_utf8(new).expect("utf-8"), expected);
    }

    #[test]
    fn the_last_attachment_and_a_lone_one_are_removed_too() {
        let Removal::Removed(new) = remove_attachment(MESSAGE.as_bytes(), 2, &defaults()) else { panic!("removed") };
        assert_eq!(attachment_count(&new), Some(1));
        let tree = render_message(&new).expect("renders");
        let remaining = tree.child("ATTACHMENT-1").and_then(|a| a.child("BODY")).map(|b| b.content.clone());
        assert_eq!(remaining, Some(Content::Binary(vec![0, 1, 2])));
        let single =
            "Subject: pdf\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n";
        let Removal::Removed(new) = remove_attachment(single.as_bytes(), 1, &defaults()) else { panic!("removed") };
        assert_eq!(attachment_count(&new), Some(0));
        assert_eq!(
            render_message(&new)
                .and_then(|t| t.child("HEADER").and_then(|h| h.child("Subject")).cloned())
                .map(|s| s.content),
            Some(Content::Text("pdf".into()))
        );
    }

    #[test]
    fn numbers_out_of_range_say_how_many_there_are() {
        assert_eq!(remove_attachment(MESSAGE.as_bytes(), 3, &defaults()), Removal::NoSuchAttachment(2));
        assert_eq!(remove_attachment(MESSAGE.as_bytes(), 0, &defaults()), Removal::NoSuchAttachment(2));
    }
}
