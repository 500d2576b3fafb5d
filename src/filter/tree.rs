//! The filter tree.

use crate::format::part::PartPath;

/// `IS` comparison operators (draft 4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `>=`
    GreaterOrEqual,
    /// `>`
    Greater,
}

impl Comparison {
    /// Whether `value` compared to `expected` satisfies the operator (string order, so
    /// timestamps of the AGAP format compare in time order).
    pub fn holds(self, value: &str, expected: &str) -> bool {
        let order = value.cmp(expected);
        match self {
            Comparison::Less => order.is_lt(),
            Comparison::LessOrEqual => order.is_le(),
            Comparison::Equal => order.is_eq(),
            Comparison::NotEqual => order.is_ne(),
            Comparison::GreaterOrEqual => order.is_ge(),
            Comparison::Greater => order.is_gt(),
        }
    }
}

/// A compiled regular expression that compares by its source.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The expression as written.
    pub source: String,
    /// Compiled with size limits, on the filter's budget (see `parse`).
    pub regex: regex_automata::meta::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The empty filter: every item.
    All,
    /// Every child matches.
    And(Vec<Filter>),
    /// Some child matches.
    Or(Vec<Filter>),
    /// The child does not match.
    Not(Box<Filter>),
    /// A UID, or an inclusive range in AGAP order (`from` == `to` for one UID).
    Uid {
        /// First UID.
        from: String,
        /// Last UID.
        to: String,
    },
    /// A tag: by name whatever its value (`value` None), or exactly `NAME=value`.
    Tag {
        /// Upper-case name.
        name: String,
        /// The exact value, if given.
        value: Option<String>,
    },
    /// `IS path op 'string'`.
    Is {
        /// Where in the rendering.
        path: PartPath,
        /// How to compare.
        op: Comparison,
        /// With what.
        value: String,
    },
    /// `REGEX path =|!= 'regex'`: a partial match.
    Regex {
        /// Where in the rendering.
        path: PartPath,
        /// True for `!=`.
        negated: bool,
        /// The expression.
        pattern: Pattern,
    },
}

impl Filter {
    /// Joins filters with AND/OR, flattening nested ones of the same kind and dropping a
    /// group of one.
    pub fn combine(and: bool, children: Vec<Filter>) -> Filter {
        let mut flat = Vec::with_capacity(children.len());
        for child in children {
            match (and, child) {
                (true, Filter::And(inner)) | (false, Filter::Or(inner)) => flat.extend(inner),
                (_, other) => flat.push(other),
            }
        }
        match flat.len() {
            0 => Filter::All,
            1 => flat.pop().unwrap_or(Filter::All),
            _ if and => Filter::And(flat),
            _ => Filter::Or(flat),
        }
    }
}
