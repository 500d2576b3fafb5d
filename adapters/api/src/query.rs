//! What a backend is asked to search for. A backend answers with a superset of the matches and
//! says whether it is exact; the core checks the candidates of an inexact answer itself. The
//! shape is neutral so that calendar and contact backends can answer text and time conditions.

use crate::tags::Tag;

/// A search condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Every item.
    All,
    /// A condition the core checks itself: the backend treats it as "anything".
    Unknown,
    /// Every child holds.
    And(Vec<Query>),
    /// Some child holds.
    Or(Vec<Query>),
    /// The child does not hold (meaningful only where the child was answered exactly).
    Not(Box<Query>),
    /// Backend item numbers (IMAP UIDs) in inclusive ranges.
    Uids(Vec<(u32, u32)>),
    /// An item with this tag: any value when `value` is None, else exactly.
    Tag {
        /// Upper-case tag name.
        name: String,
        /// The exact value, if any.
        value: Option<String>,
    },
    /// Items not yet seen.
    Unseen,
    /// A header field (or, for calendars and contacts, a property) whose decoded value
    /// contains `text`, ignoring case: a superset of exact comparisons.
    FieldContains {
        /// Field name.
        field: String,
        /// Text to find.
        text: String,
    },
    /// A calendar component overlapping `[start, end)` (RFC 4791 9.9), times in UTC as
    /// `yyyymmddThhmmssZ`; an open end when `None`. Mail backends treat it as "anything".
    TimeRange {
        /// Inclusive start.
        start: Option<String>,
        /// Exclusive end.
        end: Option<String>,
    },
}

impl Query {
    /// A tag condition.
    pub fn tag(tag: &Tag) -> Query {
        Query::Tag { name: tag.name().to_owned(), value: tag.value().map(str::to_owned) }
    }
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Candidates, ascending.
    pub uids: Vec<u32>,
    /// True when the candidates are exactly the matches.
    pub exact: bool,
}

/// What the core needs of each candidate to check it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchNeeds {
    /// The item's tags.
    pub tags: bool,
    /// These header fields only.
    pub header_fields: Vec<String>,
    /// The whole item (a body part is read).
    pub whole: bool,
}

/// One fetched candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedItem {
    /// Backend item number.
    pub uid: u32,
    /// Its tags, when asked for.
    pub tags: Vec<Tag>,
    /// The whole item, or the asked header fields, or nothing.
    pub data: Vec<u8>,
}
