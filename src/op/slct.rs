//! SLCT path (draft 4.35). A failed selection leaves no folder selected (3.3).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderEntry, FolderPath};
use crate::gateway::Gateway;
use crate::state::{Selection, Transition};

/// Selects a folder; the root cannot be selected.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    current: Option<&Selection>,
    argument: &str,
) -> (AgapResult<Reply>, Transition) {
    let base = current.map(|selection| &selection.path);
    match select(gateway, account, base, argument).await {
        Ok(folder) => {
            let reply = Reply::ok(format!("OK Selected {}", folder.path));
            (Ok(reply), Transition::Select(Selection::of(folder)))
        }
        Err(error) => (Err(error), Transition::Deselect),
    }
}

async fn select(
    gateway: &Gateway,
    account: &Account,
    base: Option<&FolderPath>,
    argument: &str,
) -> AgapResult<FolderEntry> {
    let path = FolderPath::resolve(argument, base)?;
    if path.is_root() {
        return Err(AgapError::invalid("You cannot select /"));
    }
    let tree = account.tree(gateway).await?;
    let folder = tree.get(&path).ok_or_else(|| AgapError::invalid(format!("INVALID folder {path}")))?;
    account.with_rights(folder).await
}
