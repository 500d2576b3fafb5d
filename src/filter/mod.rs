//! The filter language (draft 4.3): parsing the command form (4.3.1) and the FILT folder form
//! (4.3.2) into one tree, planning what a backend can answer, and evaluating the rest over the
//! same XML view RETR gives. No I/O: the item layer (`crate::items`) fetches what is checked.

mod definition;
mod eval;
mod parse;
mod plan;
mod tree;

pub use definition::{FilterDefinition, parse_definition, read_definition};
pub use eval::{ItemView, matches};
pub use parse::{
    FILTER_REGEX_BUDGET, MAX_RULES, RegexBudget, compile, is_header_field_name, parse_filter, parse_filter_blocking,
};
pub use plan::{collection_query, fetch_needs, mail_query, query_is_open};
pub use tree::{Comparison, Filter, Pattern};
