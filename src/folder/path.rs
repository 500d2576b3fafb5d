//! Folder names and paths (draft 2.9.1, 2.9.2) and LIST patterns (4.27).

use std::fmt;

use crate::error::{AgapError, AgapResult};

/// Checks one folder name against draft 2.9.1: any UTF-8 character from space upwards except
/// `/ \ * ?`, and neither `.` nor `..`. Control characters beyond the ASCII range (DEL, C1) are
/// refused as well: they are invisible in every client and some IMAP servers reject them.
pub fn validate_name(name: &str) -> AgapResult<()> {
    if name.is_empty() {
        return Err(AgapError::invalid("empty folder name"));
    }
    if name == "." || name == ".." {
        return Err(AgapError::invalid(format!("'{name}' is not a valid folder name")));
    }
    if let Some(bad) = name.chars().find(|&c| matches!(c, '/' | '\\' | '*' | '?') || c.is_control()) {
        return Err(AgapError::invalid(format!("folder names cannot contain {:?}", bad)));
    }
    Ok(())
}

/// An absolute folder path: the root is the empty list of levels.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderPath(Vec<String>);

impl FolderPath {
    /// The root `/`.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path from levels already known to be valid names.
    pub fn from_levels(levels: Vec<String>) -> Self {
        Self(levels)
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The names along the path, outermost first.
    pub fn levels(&self) -> &[String] {
        &self.0
    }

    /// The last name (empty for the root).
    pub fn name(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    /// The parent folder; `None` for the root.
    pub fn parent(&self) -> Option<FolderPath> {
        (!self.0.is_empty()).then(|| Self(self.0[..self.0.len() - 1].to_vec()))
    }

    /// A child of this folder.
    pub fn child(&self, name: &str) -> FolderPath {
        let mut levels = self.0.clone();
        levels.push(name.to_owned());
        Self(levels)
    }

    /// This folder under another name in the same parent.
    pub fn with_name(&self, name: &str) -> FolderPath {
        let mut levels = self.0.clone();
        levels.pop();
        levels.push(name.to_owned());
        Self(levels)
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &FolderPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// Whether `self` is a direct child of `parent`.
    pub fn is_child_of(&self, parent: &FolderPath) -> bool {
        self.0.len() == parent.0.len() + 1 && self.0.starts_with(&parent.0)
    }

    /// Parses a path argument: absolute (`/a/b`) or relative to `base`, the selected folder
    /// (draft 2.9.2). Without a selected folder only absolute paths are accepted.
    pub fn resolve(argument: &str, base: Option<&FolderPath>) -> AgapResult<FolderPath> {
        if argument == "/" {
            return Ok(Self::root());
        }
        let (mut levels, rest) = match argument.strip_prefix('/') {
            Some(rest) => (Vec::new(), rest),
            None => match base {
                Some(base) => (base.0.clone(), argument),
                None => {
                    return Err(AgapError::invalid("no folder is selected: use an absolute path"));
                }
            },
        };
        for name in rest.split('/') {
            validate_name(name)?;
            levels.push(name.to_owned());
        }
        Ok(Self(levels))
    }
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for level in &self.0 {
            write!(f, "/{level}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// A LIST argument (draft 4.27): a path whose last name may hold one `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListPattern {
    /// No wildcard: that one folder, which must exist.
    Exact(FolderPath),
    /// The children of `parent` (which must exist) whose names match `prefix*suffix`.
    Children {
        /// The folder whose children are listed.
        parent: FolderPath,
        /// Text before the `*`.
        prefix: String,
        /// Text after the `*`.
        suffix: String,
    },
}

impl ListPattern {
    /// Parses a LIST argument, relative paths against the selected folder (or the root when none
    /// is selected: docs/interpretations.md, LIST-NOT-SELECTED).
    pub fn parse(argument: &str, base: Option<&FolderPath>) -> AgapResult<ListPattern> {
        let stars = argument.matches('*').count();
        if stars == 0 {
            return FolderPath::resolve(argument, Some(base.unwrap_or(&FolderPath::root()))).map(ListPattern::Exact);
        }
        if stars > 1 {
            return Err(AgapError::invalid("path filter can contain only one * in the last folder name"));
        }
        let (parent_part, last) = match argument.rfind('/') {
            Some(index) => (&argument[..index], &argument[index + 1..]),
            None => ("", argument),
        };
        if !last.contains('*') {
            return Err(AgapError::invalid("path filter can contain only one * in the last folder name"));
        }
        let parent = match (parent_part, argument.starts_with('/')) {
            ("", true) => FolderPath::root(),
            ("", false) => base.cloned().unwrap_or_else(FolderPath::root),
            (path, true) => FolderPath::resolve(path, None)?,
            (path, false) => FolderPath::resolve(path, Some(base.unwrap_or(&FolderPath::root())))?,
        };
        let (prefix, suffix) = last.split_once('*').unwrap_or((last, ""));
        for part in [prefix, suffix] {
            if let Some(bad) = part.chars().find(|&c| matches!(c, '\\' | '?') || c.is_control()) {
                return Err(AgapError::invalid(format!("path filter cannot contain {bad:?}")));
            }
        }
        Ok(ListPattern::Children { parent, prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> FolderPath {
        FolderPath::resolve(text, None).expect("valid")
    }

    #[test]
    fn names_follow_draft_2_9_1() {
        for good in ["INBOX", "a b", "Entwürfe", "日本", "x.y", "..."] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", "a*", "what?", "tab\there", "del\u{7f}", "c1\u{85}"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn absolute_and_relative_paths_resolve() {
        assert_eq!(path("/").to_string(), "/");
        assert_eq!(path("/My/NewFolder").levels(), ["My", "NewFolder"]);
        let base = path("/WORK");
        assert_eq!(
            FolderPath::resolve("YEAR-2010/JUN", Some(&base)).expect("valid").to_string(),
            "/WORK/YEAR-2010/JUN"
        );
        assert!(FolderPath::resolve("ARCHIVE", None).is_err(), "relative without a selection");
        assert!(FolderPath::resolve("/a//b", None).is_err());
        assert!(FolderPath::resolve("/a/../b", None).is_err());
        assert!(FolderPath::resolve("/a/", None).is_err());
    }

    #[test]
    fn ancestry() {
        assert!(path("/a/b").is_within(&path("/a")));
        assert!(path("/a").is_within(&path("/a")));
        assert!(!path("/ab").is_within(&path("/a")));
        assert!(path("/a/b").is_child_of(&path("/a")));
        assert!(!path("/a/b/c").is_child_of(&path("/a")));
        assert_eq!(path("/a/b").parent(), Some(path("/a")));
        assert_eq!(FolderPath::root().parent(), None);
        assert_eq!(path("/a/b").with_name("c"), path("/a/c"));
    }

    #[test]
    fn list_patterns_follow_draft_4_27() {
        assert_eq!(
            ListPattern::parse("/*", None).expect("valid"),
            ListPattern::Children { parent: FolderPath::root(), prefix: String::new(), suffix: String::new() }
        );
        let base = path("/WORK");
        assert_eq!(
            ListPattern::parse("YEAR-2010/J*", Some(&base)).expect("valid"),
            ListPattern::Children { parent: path("/WORK/YEAR-2010"), prefix: "J".into(), suffix: String::new() }
        );
        assert_eq!(
            ListPattern::parse("/ARCHIVE/2000", None).expect("valid"),
            ListPattern::Exact(path("/ARCHIVE/2000"))
        );
        assert!(ListPattern::parse("*/*", None).is_err());
        assert!(ListPattern::parse("/a*/b", None).is_err());
        assert!(ListPattern::parse("/a/../*", None).is_err());
        assert!(ListPattern::parse("/a\\*", None).is_err());
    }
}
