//! LIST path/filter? (draft 4.27). Lines are `TYPE /absolute/path` (docs/interpretations.md,
//! `LIST-RELATIVE`: absolute paths, as the text says); a missing path is 511 (`LIST-511-521`, as in
//! 4.27).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath, ListPattern};
use crate::gateway::Gateway;

fn matches(name: &str, prefix: &str, suffix: &str) -> bool {
    name.chars().count() >= prefix.chars().count() + suffix.chars().count()
        && name.starts_with(prefix)
        && name.ends_with(suffix)
}

/// Lists the folders the argument names; without one, the children of the selected folder (of
/// the root when none is selected).
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: Option<&FolderPath>,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let pattern = match argument {
        None => ListPattern::Children {
            parent: selected.cloned().unwrap_or_else(FolderPath::root),
            prefix: String::new(),
            suffix: String::new(),
        },
        Some(argument) => ListPattern::parse(argument, selected)?,
    };
    let tree = account.tree(gateway).await?;
    let found: Vec<&FolderEntry> = match &pattern {
        ListPattern::Exact(path) if path.is_root() => Vec::new(),
        ListPattern::Exact(path) => {
            vec![
                tree.get(path)
                    .ok_or_else(|| AgapError::invalid(format!("The specified folder {path} does not exist")))?,
            ]
        }
        ListPattern::Children { parent, prefix, suffix } => {
            if !tree.exists(parent) {
                return Err(AgapError::invalid(format!("The folder '{parent}' does not exist")));
            }
            tree.children(parent).filter(|entry| matches(entry.path.name(), prefix, suffix)).collect()
        }
    };
    let lines: Vec<String> = found.iter().map(|entry| format!("{} {}", entry.kind, entry.path)).collect();
    let count = lines.len();
    Ok(Reply::ok(format!("OK LIST completed ({count} {})", if count == 1 { "match" } else { "matches" }))
        .with_lines(lines))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn the_star_matches_any_run_within_one_name() {
        assert!(matches("JUN", "J", ""));
        assert!(matches("JUL", "J", ""));
        assert!(!matches("MAY", "J", ""));
        assert!(matches("report.doc", "", ".doc"));
        assert!(matches("ab", "a", "b"));
        assert!(!matches("a", "a", "a"), "prefix and suffix may not overlap");
        assert!(matches("日本語", "日", "語"));
    }
}
