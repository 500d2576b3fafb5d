//! STAT (draft 4.38): PATH, TYPE, FCID, UCID (item folders), TAGS, then TOTAL (item folders)
//! and NEW (message folders: the unseen count, docs/interpretations.md, NEW-COUNT). FCID and UCID
//! are reported although examples 7.1 and 7.15 omit them (docs/interpretations.md, STAT-FCID).

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::{FolderPath, FolderType};
use crate::gateway::Gateway;

/// Reports the status of the selected folder.
pub async fn handle(gateway: &Gateway, account: &Account, selected: &FolderPath) -> AgapResult<Reply> {
    let tree = account.fresh_tree(gateway).await?;
    let entry = account.with_rights(tree.selected(selected)?).await?;
    if entry.has_items() {
        crate::items::open(gateway, account, &entry).await?.refresh().await?;
    }
    let state = crate::items::folder_states(gateway, account, &tree, std::slice::from_ref(selected))
        .await?
        .pop()
        .ok_or_else(|| AgapError::internal("no folder state computed"))?;
    let mut lines = vec![format!("PATH {selected}"), format!("TYPE {}", entry.kind), format!("FCID {}", state.fcid)];
    if let Some(items) = &state.items {
        lines.push(format!("UCID {}", items.ucid));
    }
    let tags = entry.tags();
    lines.push(if tags.is_empty() { "TAGS".to_owned() } else { format!("TAGS {}", tags.join(" ")) });
    if entry.kind == FolderType::Filt {
        lines.push(format!("TOTAL {}", super::filt::total(gateway, account, &entry).await?));
    }
    if let Some(items) = &state.items {
        lines.push(format!("TOTAL {}", items.total));
        if entry.kind == FolderType::Mesg {
            lines.push(format!("NEW {}", items.unseen));
        }
    }
    Ok(Reply::ok("OK Folder status displayed").with_lines(lines))
}
