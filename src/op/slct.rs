//! SLCT path (draft 4.35). A failed selection leaves no folder selected (3.3).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderPath;
use crate::gateway::Gateway;
use crate::session::{Selection, State};

/// Selects a folder; the root cannot be selected.
pub async fn handle(
    gateway: &Gateway,
    account: Account,
    selected: Option<&FolderPath>,
    argument: Option<&str>,
) -> (AgapResult<Reply>, State) {
    let argument = match super::require_argument("SLCT", argument) {
        Ok(argument) => argument,
        // A command that was not understood changes nothing.
        Err(error) => {
            let state = match selected {
                Some(path) => State::Selected(account, Selection::of(path.clone())),
                None => State::NotSelected(account),
            };
            return (Err(error), state);
        }
    };
    match select(gateway, &account, selected, argument).await {
        Ok(path) => {
            let reply = Reply::ok(format!("OK Selected {path}"));
            (Ok(reply), State::Selected(account, Selection::of(path)))
        }
        Err(error) => (Err(error), State::NotSelected(account)),
    }
}

async fn select(
    gateway: &Gateway,
    account: &Account,
    selected: Option<&FolderPath>,
    argument: &str,
) -> AgapResult<FolderPath> {
    let path = FolderPath::resolve(argument, selected)?;
    if path.is_root() {
        return Err(AgapError::invalid("You cannot select /"));
    }
    let tree = account.tree(gateway).await?;
    if tree.get(&path).is_none() {
        return Err(AgapError::invalid(format!("INVALID folder {path}")));
    }
    Ok(path)
}
