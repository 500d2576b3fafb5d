//! AGAP XML renderings of items (draft 2.8, 2.11): a small element tree shared by RETR, part
//! paths and (later) filters, and its conversions from and to the upstream formats.

pub mod compose;
pub mod configuration;
pub mod content_line;
#[cfg(test)]
mod corpus;
pub mod datt;
pub mod file;
pub mod icalendar;
pub mod message;
pub mod note;
pub mod part;
pub mod tree;
pub mod vcard;
pub mod xml_reader;

pub use tree::{Content, Element};
