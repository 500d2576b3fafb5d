//! The item commands on calendar, task, journal and contact folders (CALE, TASK, JRNL, ADDR):
//! what the message commands do, over CalDAV and CardDAV resources. Each command's handler in
//! `op` parses and checks as for messages, then hands collection folders to these.
//!
//! Writes go upstream under the ETag just read (If-Match), so that a change another client made
//! in between is never overwritten: it fails with 410 and the client may try again.

pub mod dele;
pub mod retr;
pub mod stor;
pub mod tags;
pub mod transfer;

use agap_adapter_api::collection::{ItemData, Precondition};

use crate::format::{Content, Element};

/// The condition for rewriting an item just read.
fn unchanged_since_read(data: &ItemData) -> Precondition {
    match &data.item.etag {
        Some(etag) => Precondition::Unchanged(etag.clone()),
        None => Precondition::Any,
    }
}

/// The trimmed text of a child element, if it has one.
fn child_text(element: &Element, name: &str) -> Option<String> {
    match &element.child(name)?.content {
        Content::Text(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        _ => None,
    }
}
