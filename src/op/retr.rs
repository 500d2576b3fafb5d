//! RETR UID part? (draft 4.34): the item's rendering, or the value of one part of it (the item
//! layer reads only what the part needs where it can).

use crate::account::Account;
use crate::codec::Reply;
use crate::command::arguments::{UidArguments, uid_arguments};
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderType;
use crate::format::Element;
use crate::format::part::PartPath;
use crate::gateway::Gateway;
use crate::state::Selection;

/// Sends a rendering or a part.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    if argument.is_none() {
        return Err(AgapError::unknown_command("RETR needs a UID (only FILT folders do not)"));
    }
    let UidArguments { uid, rest } = uid_arguments("RETR", argument)?;
    let folder = super::item::items_folder(selection)?;
    // Each data line gets a dot and an LF: 1024 characters in all (draft 2.2).
    let max_chars = gateway.config.server.max_line_length.saturating_sub(2);
    let tree = crate::items::open(gateway, account, folder).await?.render(uid, rest).await?;
    // `RETR uid UTF-8` in a FILE folder is the whole file, its content as text where it is
    // (docs/interpretations.md, FILE-RETR-UTF8).
    let part = if folder.kind == FolderType::File && rest == crate::items::files::UTF8_PART { "" } else { rest };
    reply(tree, part, max_chars)
}

/// The reply carrying a rendering, or the part `part` of it (empty: all of it).
///
/// The lines are made from the tree as they are written (see [`Element::into_lines`]).
pub fn reply(tree: Element, part: &str, max_chars: usize) -> AgapResult<Reply> {
    if part.is_empty() {
        return Ok(Reply::ok("OK RETR completed").with_line_stream(tree.into_lines(max_chars)));
    }
    let value = PartPath::parse(part, &tree.name)?.extract(tree, max_chars)?;
    let text = if value.base64 { "OK RETR completed (base64)" } else { "OK RETR completed" };
    Ok(Reply::ok(text).with_line_stream(value.lines))
}
