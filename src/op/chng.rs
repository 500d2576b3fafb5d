//! CHNG path? (draft 4.13): the FCID of `/` and of every folder. The optional path argument is
//! never described by the draft (docs/interpretations.md, CHNG-PATH); here it limits the list to
//! that folder and everything below it.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderPath;
use crate::gateway::Gateway;

/// Lists `FCID path` lines.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selected: Option<&FolderPath>,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let tree = account.fresh_tree(gateway).await?;
    let top = match argument {
        None => FolderPath::root(),
        Some(argument) => FolderPath::resolve(argument, selected)?,
    };
    if !tree.exists(&top) {
        return Err(AgapError::invalid(format!("The folder {top} does not exist")));
    }
    let mut paths = vec![top.clone()];
    paths.extend(
        tree.folders().filter(|entry| entry.path != top && entry.path.is_within(&top)).map(|entry| entry.path.clone()),
    );
    let states = crate::items::folder_states(gateway, account, &tree, &paths).await?;
    let lines = paths.iter().zip(states).map(|(path, state)| format!("{} {path}", state.fcid)).collect();
    Ok(Reply::ok("OK CHNG completed").with_lines(lines))
}
